import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def new_ticket_code() -> str:
    """The QR payload: 192 random bits from ``secrets``, URL-safe, derived
    from nothing (not ids, not e-mail addresses). Never starting with "-":
    a command line would read such a code as an option (1 code in 64 did)."""
    while True:
        code = secrets.token_urlsafe(24)
        if not code.startswith("-"):
            return code


class Registration(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed"
        WAITLISTED = "waitlisted"
        CANCELLED = "cancelled"

    class CancelReason(models.TextChoices):
        ATTENDEE_CANCELLED = "attendee_cancelled"
        ORGANIZER_CANCELLED = "organizer_cancelled"
        EVENT_CANCELLED = "event_cancelled"

    ACTIVE_STATUSES = (Status.CONFIRMED, Status.WAITLISTED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No single-column indexes on event and user: the composite indexes below
    # lead with them, and every index is one more write per registration.
    event = models.ForeignKey(
        "events.Event", on_delete=models.PROTECT, related_name="registrations", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="registrations", db_index=False
    )
    status = models.CharField(max_length=16, choices=Status.choices)
    # Unique by a constraint (below), not unique=True: on PostgreSQL that would
    # add a second index for LIKE lookups (varchar_pattern_ops) that nothing
    # runs, one more write per registration and per cancelled registration.
    ticket_code = models.CharField(max_length=64, default=new_ticket_code, editable=False)
    # Written under the event's row lock, so the order of created_at is the
    # order of arrival: the waitlist is first-come first-served on it.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # NULL, not "", while not cancelled: docs/api.md returns cancel_reason null.
    cancel_reason = models.CharField(max_length=32, choices=CancelReason.choices, null=True, blank=True)  # noqa: DJ001
    # Neither check-in column is indexed, so a check-in changes no indexed
    # column and PostgreSQL can update the row in place (a HOT update, no
    # index writes; the table keeps free room per page for it, see migration
    # 0003). The price: deleting a user scans the table once for
    # checked_in_by, which only an admin does, rarely.
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # The door device that checked the ticket in (the client's own name for
    # it, from the scan), and whether the attendee went out since (an exit
    # scan sets it, a re-entry clears it): inside = checked in and not
    # exited. Stored this way round, a check-in by code that knows nothing
    # of exits (an instance still serving the previous version during a
    # deploy) leaves the attendee inside, with no backfill. Not indexed.
    checked_in_device = models.CharField(max_length=64, blank=True, default="", db_default="")
    exited = models.BooleanField(default=False, db_default=False)
    # When it moved from the waitlist to confirmed (one UPDATE moves them all:
    # the promoted mails find theirs by this instant).
    promoted_at = models.DateTimeField(null=True, blank=True)

    # Not a column: the waitlist position annotated by registrations.selectors
    # (registration_with_details) or set by registrations.services.registration_create;
    # absent on a plain instance (read it with getattr).
    waitlist_position_raw: int | None

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "user"],
                condition=Q(status__in=["confirmed", "waitlisted"]),
                name="one_active_registration_per_user_and_event",
            ),
            models.UniqueConstraint(fields=["ticket_code"], name="registration_ticket_code_unique"),
            models.CheckConstraint(
                condition=Q(status="cancelled") | Q(cancelled_at__isnull=True),
                name="registration_only_cancelled_has_cancelled_at",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "status"], name="registration_user_status_idx"),
            models.Index(fields=["event", "status", "created_at"], name="registration_event_status_idx"),
            # Keyset pages over one event's registrations (the mail fan-outs):
            # without it each page of 100 scanned and sorted the whole event
            # (110 ms a page at 100,000 registrations, 0.2 ms with it).
            models.Index(fields=["event", "id"], name="registration_event_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.event} ({self.status})"

    @property
    def inside(self) -> bool:
        """Checked in, and not gone out since."""
        return self.checked_in_at is not None and not self.exited


class Mail(models.Model):
    """One mail to an attendee, at most one of each kind per registration.

    Written in the transaction of the change it tells about (so a rolled-back
    change mails nobody and a committed one is never forgotten), sent by a
    worker (registrations.mails). Its id is in the mail's Message-ID, the
    same on every attempt, so a mail client folds the rare duplicate of a
    worker killed mid-send."""

    class Kind(models.TextChoices):
        CONFIRMED = "confirmed"
        PROMOTED = "promoted"
        CANCELLED = "cancelled"
        EVENT_CANCELLED = "event_cancelled"
        REMINDER = "reminder"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"  # refused by the server, or still failing after MAIL_RETRY_FOR_SECONDS

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="mails")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    # Not before this time (a retry's backoff); failed once past give_up_at.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    give_up_at = models.DateTimeField()
    # A worker sending it holds it until then; a worker killed mid-send
    # leaves a claim that expires.
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # The sweep that sends it (registrations.mails.queue: one per short
    # window and process); empty for the mails of a fan-out.
    sweep = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "kind"], name="one_mail_per_registration_and_kind"
            )
        ]
        indexes = [
            # The housekeeping's search for pending mails whose task was lost.
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="mail_pending_idx"),
            # A sweep's search for its mails, and the housekeeping's for those a sweep missed.
            models.Index(
                fields=["sweep"], condition=Q(status="pending", sweep__isnull=False), name="mail_sweep_idx"
            ),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending", sweep__isnull=False),
                name="mail_sweep_due_idx",
            ),
            models.Index(fields=["status", "created_at"], name="mail_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} mail ({self.status})"


class MailFanOut(models.Model):
    """Mails to many attendees of one event, decided in one transaction (the
    event cancelled, a waitlist promoted, reminders): this one row is written
    with the change, and a task writes the Mail rows in batches and queues
    them, so the request stays fast whatever the number of attendees."""

    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Mail.Kind.choices)
    # For promotions: the registrations promoted at this instant.
    promoted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(default=timezone.now)  # its task last queued
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["queued_at"], condition=Q(done_at__isnull=True), name="mail_fan_out_open_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} mails for {self.event_id}"


class IdempotencyKey(models.Model):
    """The stored answer to a request sent with an ``Idempotency-Key``
    header: a retry by the same user with the same key gets it back instead
    of running again. Written in the transaction of the change it answers,
    so a key exists exactly when that change committed. Kept at least 24
    hours (``purge_idempotency_keys``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # What the key was used for (method and path): the same key with
    # another request is the client's mistake (422).
    scope = models.CharField(max_length=255)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user")]

    def __str__(self) -> str:
        return f"{self.key[:16]} {self.scope}"


class TicketKey(models.Model):
    """An event's Ed25519 key pair for signed tickets (registrations.signing).
    The private key never leaves the server (no API, no bundle shows it);
    a rotated key is retired, not deleted: tickets it signed stay valid."""

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="+", db_index=False)
    # Random, 32 bits: in every signed ticket, so it names the key to check.
    kid = models.PositiveBigIntegerField()
    private_key = models.BinaryField()  # 32 raw bytes
    public_key = models.BinaryField()  # 32 raw bytes
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("event", "created_at")
        constraints = [
            models.UniqueConstraint(fields=["event", "kid"], name="ticket_key_kid_once_per_event"),
            models.UniqueConstraint(
                fields=["event"], condition=Q(retired_at__isnull=True), name="ticket_key_one_active_per_event"
            ),
        ]

    def __str__(self) -> str:
        return f"key {self.kid:08x} of {self.event_id}"
