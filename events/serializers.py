from typing import Any

from rest_framework import serializers

from accounts.models import User
from accounts.serializers import UserRefSerializer
from eventmaster.api.serializers import OffsetDateTimeField, StrictUUIDField, render_datetime
from eventmaster.models import AuditEntry

from .models import Event

MAX_CAPACITY = 1_000_000


class EventSerializer(serializers.ModelSerializer):
    """An event as docs/api.md shows it."""

    # The counts are the model's properties over its counter columns. The
    # declared fields are the schema; the rendering is by hand
    # (events/tests/test_serializers.py holds the two to the same output).

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

    def to_representation(self, event: Event) -> dict[str, Any]:
        # ModelSerializer rebuilds its fields from the model on every
        # instantiation, and DRF renders field by field: together two thirds
        # of a public event list's CPU time (a page of 20).
        organizer = event.organizer
        return {
            "id": str(event.pk),
            "title": event.title,
            "description": event.description,
            "location": event.location,
            "start_at": render_datetime(event.start_at),
            "end_at": render_datetime(event.end_at),
            "capacity": event.capacity,
            "status": str(event.status),
            "waitlist_enabled": event.waitlist_enabled,
            "organizer": {"id": str(organizer.pk), "full_name": organizer.full_name},
            "registered_count": event.registered_count,
            "waitlist_count": event.waitlist_count,
            "available_slots": event.available_slots,
            "is_full": event.is_full,
            "created_at": render_datetime(event.created_at),
            "updated_at": render_datetime(event.updated_at),
        }


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


class AuditEntrySerializer(serializers.ModelSerializer):
    """One entry of the audit trail (eventmaster.audit), with its place in the
    hash chain so a client can check it."""

    class Meta:
        model = AuditEntry
        fields = (
            "seq",
            "at",
            "action",
            "actor_id",
            "actor",
            "actor_role",
            "via",
            "object_type",
            "object_id",
            "event_id",
            "changes",
            "request_id",
            "prev_hash",
            "hash",
        )
        read_only_fields = fields
