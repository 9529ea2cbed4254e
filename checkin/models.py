from django.conf import settings
from django.db import models
from django.utils import timezone


class Scan(models.Model):
    """Every scan attempt at the door, whatever its result (the audit log and
    the source of the arrivals chart). Never deleted; updated once only: an
    entry overtaken by one made earlier offline becomes
    ``already_checked_in`` (checkin.services._take_over)."""

    class Result(models.TextChoices):
        OK = "ok"
        ALREADY_CHECKED_IN = "already_checked_in"
        CANCELLED = "cancelled"
        NOT_CONFIRMED = "not_confirmed"
        WRONG_EVENT = "wrong_event"
        INVALID = "invalid"
        EVENT_CANCELLED = "event_cancelled"
        UNDONE = "undone"
        NOT_CHECKED_IN = "not_checked_in"
        # A nonce sent again with another ticket or event: answered 409, and
        # logged with nonce NULL (the original scan holds the (by, nonce)).
        NONCE_REUSED = "nonce_reused"
        # An exit scan of someone who is not inside.
        NOT_INSIDE = "not_inside"

    class Action(models.TextChoices):
        CHECKIN = "checkin"  # direction "in": an entry, or a re-entry after an exit
        CHECKOUT = "checkout"  # direction "out": an exit
        UNDO = "undo"

    # A sequence, not a UUID: the log only grows, and inserts stay local in
    # the index. Scans are never addressed by id in the API.
    id = models.BigAutoField(primary_key=True)
    # Indexed by (event, created_at) and (by, nonce) below, not on their own:
    # every index is one more write per scan.
    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="scans", db_index=False)
    registration = models.ForeignKey(
        "registrations.Registration", on_delete=models.PROTECT, null=True, blank=True, related_name="scans"
    )
    # The code as scanned (an invalid one has no registration to point to).
    ticket_code = models.CharField(max_length=255)
    action = models.CharField(max_length=8, choices=Action.choices, default=Action.CHECKIN)
    result = models.CharField(max_length=24, choices=Result.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Client-supplied: a per-scan UUID that makes retries safe, and the time
    # the phone read the code (it may send it later, after a network drop).
    nonce = models.UUIDField(null=True, blank=True)
    scanned_at = models.DateTimeField(null=True, blank=True)
    # The client's name for the device that made the scan (a scanner page
    # keeps one per install): offline scans arrive in batches, later.
    device = models.CharField(max_length=64, blank=True, default="", db_default="")

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            # A retry of the same nonce by the same user is the same scan.
            # NULLs are distinct in a unique index (PostgreSQL and SQLite), so
            # scans without a nonce never clash; not partial, so that it also
            # serves lookups by user.
            models.UniqueConstraint(fields=["by", "nonce"], name="scan_nonce_once_per_user"),
        ]
        indexes = [models.Index(fields=["event", "created_at"], name="scan_event_history_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_code[:8]}… {self.result}"
