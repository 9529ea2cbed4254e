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
