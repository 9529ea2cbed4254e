import base64
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Event(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        PUBLISHED = "published"
        CANCELLED = "cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=200)
    # Sanitized HTML (events.sanitize), whoever writes it: API, admin, commands.
    description = models.TextField(blank=True, default="")
    location = models.CharField(max_length=200, blank=True, default="")
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    capacity = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    waitlist_enabled = models.BooleanField(default=True)
    # The event's registrations by status, kept by registrations.services in
    # the transaction (and under the event row lock) of every change that
    # moves them; registrations.selectors.event_counts_drift (the
    # ``recount_events`` command) compares them with the registrations.
    # No check against capacity: the test suite's lock-less control run must
    # be able to overbook.
    confirmed_count = models.PositiveIntegerField(default=0, editable=False)
    waitlisted_count = models.PositiveIntegerField(default=0, editable=False)
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="organized_events"
    )
    staff = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="staffed_events", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Not a column: (user id, assigned to the door staff?) as read with the
    # event by events.selectors.event_get_for_door, for events.rules; absent
    # on an event read any other way (read it with getattr).
    door_staff_for: tuple[uuid.UUID | None, bool]

    class Meta:
        ordering = ("start_at", "id")
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="event_capacity_at_least_1"),
            models.CheckConstraint(condition=Q(end_at__gt=F("start_at")), name="event_ends_after_start"),
        ]
        indexes = [
            models.Index(fields=["status", "start_at"], name="event_public_list_idx"),
            models.Index(fields=["organizer", "start_at"], name="event_organizer_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    # The counts as the API shows them: arithmetic on the counter columns,
    # so reading them builds no annotation and runs no query.
    @property
    def registered_count(self) -> int:
        return self.confirmed_count

    @property
    def waitlist_count(self) -> int:
        return self.waitlisted_count

    @property
    def available_slots(self) -> int:
        return self.capacity - self.confirmed_count

    @property
    def is_full(self) -> bool:
        return self.confirmed_count >= self.capacity


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class WebhookEndpoint(models.Model):
    """Where an organizer wants to hear about their events' domain events
    (eventmaster.audit.TYPES), signed per Standard Webhooks (events.webhooks)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=2000)
    # The domain event types it wants; empty: every type.
    event_types = models.JSONField(default=list, blank=True)
    # Only this event's (else every event the organizer runs).
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, null=True, blank=True, related_name="webhook_endpoints"
    )
    active = models.BooleanField(default=True)
    secret = models.CharField(max_length=64, default=new_webhook_secret, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Since when every delivery has failed (None while the last one worked);
    # past WEBHOOK_DISABLE_AFTER_SECONDS the endpoint is deactivated.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["organizer", "created_at"], name="webhook_endpoint_owner_idx")]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One message to one endpoint: a domain event (or a test ping), its
    payload rendered once, so every attempt and a resend carry the same
    ``webhook-id`` and body."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    # None for a ping, and once the outbox row is forgotten (webhooks.prune):
    # the delivery keeps its rendered payload and its webhook-id.
    domain_event = models.ForeignKey(
        "eventmaster.DomainEvent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    type = models.CharField(max_length=32)
    payload = models.JSONField()
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField()
    give_up_at = models.DateTimeField()
    # A worker sending it holds it until then; a killed worker's goes to another.
    claimed_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "domain_event"], name="one_delivery_per_endpoint_and_domain_event"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_pending_idx"
            ),
            models.Index(fields=["endpoint", "created_at"], name="webhook_delivery_endpoint_idx"),
            # The housekeeping forgets the oldest (events.webhooks.prune).
            models.Index(fields=["created_at"], name="webhook_delivery_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} to {self.endpoint_id} ({self.status})"

    @property
    def message_id(self) -> str:
        """The ``webhook-id`` header: the same for every attempt and resend."""
        return f"msg_{self.id.hex}"


class WebhookAttempt(models.Model):
    """One HTTP attempt of a delivery, as the organizer sees it."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=300, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.at}: {self.status_code or self.error}"
