from typing import Any

from rest_framework import serializers

from accounts.models import User
from accounts.serializers import UserRefSerializer
from eventmaster.api.serializers import OffsetDateTimeField, StrictUUIDField, render_datetime
from eventmaster.audit import TYPES
from eventmaster.models import AuditEntry

from .errors import NO_EVENT_YOU_ORGANIZE
from .models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint

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


_ENDPOINT_FIELDS: tuple[str, ...] = (
    "id",
    "url",
    "event_types",
    "event",
    "active",
    "created_at",
    "failing_since",
    "disabled_reason",
)


class WebhookEndpointSerializer(serializers.ModelSerializer):
    """An endpoint as its organizer sees it; the secret only when it is made
    or rotated (WebhookEndpointSecretSerializer)."""

    event: serializers.PrimaryKeyRelatedField[Event] = serializers.PrimaryKeyRelatedField(
        read_only=True, pk_field=serializers.UUIDField()
    )

    class Meta:
        model = WebhookEndpoint
        fields = _ENDPOINT_FIELDS
        read_only_fields = fields


class WebhookEndpointSecretSerializer(WebhookEndpointSerializer):
    class Meta(WebhookEndpointSerializer.Meta):
        fields = (*_ENDPOINT_FIELDS, "secret")
        read_only_fields = fields


class WebhookEndpointInputSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(TYPES)),
        required=False,
        allow_empty=True,
        max_length=len(TYPES),
    )
    # An id of no event and an id of someone else's event get the same answer
    # (events.services._webhook_checked): the error tells nobody which exist.
    event = serializers.PrimaryKeyRelatedField(
        queryset=Event.objects.all(),
        allow_null=True,
        required=False,
        pk_field=StrictUUIDField(),
        error_messages={"does_not_exist": NO_EVENT_YOU_ORGANIZE},
    )
    active = serializers.BooleanField(required=False)


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ("at", "status_code", "duration_ms", "error", "response_excerpt")
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    webhook_id = serializers.CharField(source="message_id", read_only=True)
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = (
            "id",
            "webhook_id",
            "type",
            "status",
            "attempts",
            "created_at",
            "next_attempt_at",
            "delivered_at",
            "payload",
            "attempt_log",
        )
        read_only_fields = fields
