from types import SimpleNamespace
from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from eventmaster.api.serializers import render_datetime
from events.permissions import can_manage_event

from .models import Registration
from .selectors import registration_waitlist_position

# Read-only output serializers are plain Serializers with declared fields:
# ModelSerializer rebuilds its fields from the model on every instantiation,
# which measured twice the time per registration (0.70 against 0.34 ms) on
# the door-scan hot path and on attendee pages of 100.


class RegistrationEventSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    title = serializers.CharField(read_only=True)
    start_at = serializers.DateTimeField(read_only=True)
    end_at = serializers.DateTimeField(read_only=True)
    location = serializers.CharField(read_only=True)


class RegistrationUserSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    full_name = serializers.CharField(read_only=True)
    email = serializers.EmailField(read_only=True)


class RegistrationSerializer(serializers.Serializer):
    """A registration as docs/api.md shows it. Needs ``request`` in the context:
    the ticket code is shown only to the attendee, the organizer and admins."""

    id = serializers.UUIDField(read_only=True)
    status = serializers.ChoiceField(choices=Registration.Status.choices, read_only=True)
    event = RegistrationEventSerializer(read_only=True)
    user = RegistrationUserSerializer(read_only=True)
    ticket_code = serializers.SerializerMethodField()
    waitlist_position = serializers.SerializerMethodField()
    checked_in_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    cancelled_at = serializers.DateTimeField(read_only=True, allow_null=True)
    cancel_reason = serializers.ChoiceField(
        choices=Registration.CancelReason.choices, read_only=True, allow_null=True
    )

    def to_representation(self, registration: Registration) -> dict[str, Any]:
        # Built by hand: DRF deep-copies and binds every declared field of the
        # three nested serializers per instance, which was most of the cost of
        # rendering a registration (the door scan renders one per request,
        # attendee pages up to 100). The declared fields stay the schema;
        # registrations/tests/test_serializers.py holds the two to the same output.
        event, user = registration.event, registration.user
        cancel_reason = registration.cancel_reason
        checked_in_at, cancelled_at = registration.checked_in_at, registration.cancelled_at
        return {
            "id": str(registration.pk),
            "status": str(registration.status),
            "event": {
                "id": str(event.pk),
                "title": event.title,
                "start_at": render_datetime(event.start_at),
                "end_at": render_datetime(event.end_at),
                "location": event.location,
            },
            "user": {"id": str(user.pk), "full_name": user.full_name, "email": user.email},
            "ticket_code": self.get_ticket_code(registration),
            "waitlist_position": self.get_waitlist_position(registration),
            "checked_in_at": None if checked_in_at is None else render_datetime(checked_in_at),
            "created_at": render_datetime(registration.created_at),
            "cancelled_at": None if cancelled_at is None else render_datetime(cancelled_at),
            "cancel_reason": None if cancel_reason is None else str(cancel_reason),
        }

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


def render_for_webhook(row: Any) -> dict[str, Any] | None:
    """A registration in a webhook payload (events.webhooks), as the API shows
    it to someone who is neither its attendee nor its organizer: without the
    ticket code (a bearer credential for the door)."""
    registration = Registration.objects.select_related("event", "user").filter(pk=row.object_id).first()
    if registration is None:
        return None
    context = {"request": SimpleNamespace(user=AnonymousUser())}
    return dict(RegistrationSerializer(registration, context=context).data)
