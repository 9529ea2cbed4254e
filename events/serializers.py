from rest_framework import serializers

from accounts.models import User
from accounts.serializers import UserRefSerializer
from eventmaster.api.serializers import OffsetDateTimeField, StrictUUIDField

from .models import Event

MAX_CAPACITY = 1_000_000


class EventSerializer(serializers.ModelSerializer):
    """An event as docs/api.md shows it; the counts come from annotations
    over the event's counter columns (events.selectors.event_with_counts)."""

    organizer = UserRefSerializer(read_only=True)
    registered_count = serializers.IntegerField(read_only=True)
    waitlist_count = serializers.IntegerField(read_only=True)
    available_slots = serializers.IntegerField(read_only=True)
    is_full = serializers.BooleanField(read_only=True)

    class Meta:
        model = Event
        fields = (
            "id",
            "title",
            "description",
            "location",
            "start_at",
            "end_at",
            "capacity",
            "status",
            "waitlist_enabled",
            "organizer",
            "registered_count",
            "waitlist_count",
            "available_slots",
            "is_full",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class EventUpdateInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True, max_length=50_000, trim_whitespace=False)
    location = serializers.CharField(allow_blank=True, max_length=200)
    start_at = OffsetDateTimeField()
    end_at = OffsetDateTimeField()
    capacity = serializers.IntegerField(min_value=1, max_value=MAX_CAPACITY)
    waitlist_enabled = serializers.BooleanField()


class EventCreateInputSerializer(EventUpdateInputSerializer):
    description = serializers.CharField(
        allow_blank=True, max_length=50_000, trim_whitespace=False, required=False
    )
    location = serializers.CharField(allow_blank=True, max_length=200, required=False)
    waitlist_enabled = serializers.BooleanField(required=False, default=True)
    status = serializers.ChoiceField(
        choices=[Event.Status.DRAFT, Event.Status.PUBLISHED], required=False, default=Event.Status.DRAFT
    )


class StaffAssignInputSerializer(serializers.Serializer):
    user_id = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), pk_field=StrictUUIDField())
