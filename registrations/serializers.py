from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from events.models import Event
from events.permissions import can_manage_event

from .models import Registration
from .selectors import registration_waitlist_position


class RegistrationEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = ("id", "title", "start_at", "end_at", "location")
        read_only_fields = fields


class RegistrationUserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ("id", "full_name", "email")
        read_only_fields = fields


class RegistrationSerializer(serializers.ModelSerializer):
    """A registration as API.md shows it. Needs ``request`` in the context:
    the ticket code is shown only to the attendee, the organizer and admins."""

    event = RegistrationEventSerializer(read_only=True)
    user = RegistrationUserSerializer(read_only=True)
    ticket_code = serializers.SerializerMethodField()
    waitlist_position = serializers.SerializerMethodField()

    class Meta:
        model = Registration
        fields = (
            "id",
            "status",
            "event",
            "user",
            "ticket_code",
            "waitlist_position",
            "checked_in_at",
            "created_at",
            "cancelled_at",
            "cancel_reason",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_ticket_code(self, registration: Registration) -> str | None:
        user = self.context["request"].user
        if registration.user_id == user.pk or can_manage_event(user, registration.event):
            return registration.ticket_code
        return None

    @extend_schema_field(serializers.IntegerField(allow_null=True, min_value=1))
    def get_waitlist_position(self, registration: Registration) -> int | None:
        if registration.status != Registration.Status.WAITLISTED:
            return None
        position = getattr(registration, "waitlist_position_raw", None)
        if position is None:  # not read through a selector that annotates it
            position = registration_waitlist_position(registration=registration)
        return position
