"""Reads of registrations: scoped to the caller, with waitlist positions."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce

from accounts.models import User
from events.models import Event

from .models import Mail, MailFanOut, Registration
from .rules import VIEW_REGISTRATION


def _waitlist_position() -> CombinedExpression:
    """1 + the number of waitlisted registrations of the same event that
    arrived earlier; NULL unless the registration is waitlisted."""
    ahead = (
        Registration.objects.filter(event=OuterRef("event"), status=Registration.Status.WAITLISTED)
        .filter(
            Q(created_at__lt=OuterRef("created_at"))
            | Q(created_at=OuterRef("created_at"), id__lt=OuterRef("id"))
        )
        .order_by()
        .values("event")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(ahead, output_field=IntegerField()), Value(0)) + 1


def registration_with_details(queryset: QuerySet[Registration]) -> QuerySet[Registration]:
    # The django-stubs plugin takes Registration.waitlist_position_raw (declared,
    # typed, not a field) for a clash with the annotation; Django does not.
    return queryset.select_related("event", "user").annotate(waitlist_position_raw=_waitlist_position())  # type: ignore[no-redef]


def registration_waitlist_position(*, registration: Registration) -> int | None:
    return (
        registration_with_details(Registration.objects.filter(pk=registration.pk))
        # The plugin resolves lookups against the model's fields only (not the annotation).
        .values_list("waitlist_position_raw", flat=True)  # type: ignore[misc]
        .first()
    )


def registration_list_visible(*, user: User | AnonymousUser) -> QuerySet[Registration]:
    """Registrations the caller may see (registrations.rules.VIEW_REGISTRATION):
    their own, those of events whose door they run; admins all."""
    return registration_with_details(VIEW_REGISTRATION.filter(Registration.objects.all(), user))


def registration_list_mine(*, user: User) -> QuerySet[Registration]:
    """The caller's own registrations, newest first."""
    queryset = Registration.objects.filter(user_id=user.pk)
    return registration_with_details(queryset).order_by("-created_at", "-id")


def registration_list_for_event(*, event: Event) -> QuerySet[Registration]:
    """An event's attendee list, in order of arrival."""
    return registration_with_details(Registration.objects.filter(event=event)).order_by("created_at", "id")


def registration_count_of(status: str) -> Coalesce:
    """The number of the event's registrations in ``status``, as a
    correlated subquery on an Event queryset (0 when there are none)."""
    per_event = (
        Registration.objects.filter(event=OuterRef("pk"), status=status)
        .order_by()
        .values("event")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(per_event, output_field=IntegerField()), Value(0))


# Each counter column of Event and the registration status it counts.
COUNTED = {
    "confirmed_count": Registration.Status.CONFIRMED,
    "waitlisted_count": Registration.Status.WAITLISTED,
}


@dataclass(frozen=True)
class CountDrift:
    event_id: UUID
    column: str
    stored: int
    actual: int


def event_counts_drift(*, events: QuerySet[Event] | None = None) -> list[CountDrift]:
    """Where an event's counter columns differ from its registrations: one
    query, recounted by the database. A single statement reads one snapshot,
    and the counters move in the registrations' transaction, so a write in
    flight is no drift."""
    events = Event.objects.all() if events is None else events
    actual = {f"actual_{column}": registration_count_of(status) for column, status in COUNTED.items()}
    differs = Q()
    for column in COUNTED:
        differs |= ~Q(**{column: F(f"actual_{column}")})
    rows = events.order_by().annotate(**actual).filter(differs).order_by("pk").values("pk", *COUNTED, *actual)
    return [
        CountDrift(row["pk"], column, row[column], row[f"actual_{column}"])
        for row in rows
        for column in COUNTED
        if row[column] != row[f"actual_{column}"]
    ]


def registration_door_counts(*, event: Event) -> dict[str, int]:
    """An event's door counts: confirmed and waitlisted from its counter
    columns (as loaded: pass a fresh row), checked in, cancelled and inside
    now aggregated by the database in one query."""
    status = Registration.Status
    counts = Registration.objects.filter(event=event).aggregate(
        checked_in=Count("pk", filter=Q(status=status.CONFIRMED, checked_in_at__isnull=False)),
        cancelled=Count("pk", filter=Q(status=status.CANCELLED)),
        inside=Count("pk", filter=Q(status=status.CONFIRMED, checked_in_at__isnull=False, exited=False)),
    )
    return {
        "confirmed": event.confirmed_count,
        "checked_in": counts["checked_in"],
        "not_checked_in": event.confirmed_count - counts["checked_in"],
        "waitlisted": event.waitlisted_count,
        "cancelled": counts["cancelled"],
        "inside": counts["inside"],
    }


def registration_export_rows(*, event: Event) -> Iterator[tuple[Any, ...]]:
    """Rows for the CSV export, streamed from the database in chunks (memory
    does not grow with the number of registrations)."""
    return (
        Registration.objects.filter(event=event)
        .order_by("created_at", "id")
        .values_list("id", "user__full_name", "user__email", "status", "created_at", "checked_in_at")
        .iterator(chunk_size=2000)
    )


def reminded_users(*, event_id: Any) -> QuerySet[Mail, Any]:
    """The attendees (user ids) of an event who had its reminder (or have it
    queued), whichever registration it was for: one reminder per attendee
    and event, also after they cancelled and registered again."""
    return Mail.objects.filter(kind=Mail.Kind.REMINDER, registration__event_id=event_id).values(
        "registration__user_id"
    )


def reminder_candidates(*, now: datetime, within: timedelta) -> QuerySet[Registration]:
    """Confirmed registrations of published events that start within
    ``within`` from ``now`` and whose attendee got no reminder for them yet."""
    already = Mail.objects.filter(
        kind=Mail.Kind.REMINDER,
        registration__event_id=OuterRef("event_id"),
        registration__user_id=OuterRef("user_id"),
    )
    return (
        Registration.objects.filter(
            status=Registration.Status.CONFIRMED,
            event__status=Event.Status.PUBLISHED,
            event__start_at__gt=now,
            event__start_at__lte=now + within,
        )
        .exclude(Exists(already))
        .order_by()
    )


def fan_out_recipients(fan_out: MailFanOut) -> QuerySet[Registration]:
    """The registrations a fan-out mails (each gets the mail once, however
    often the fan-out runs: the Mail rows' unique constraint decides)."""
    registrations = Registration.objects.filter(event_id=fan_out.event_id)
    kind = fan_out.kind
    if kind == Mail.Kind.EVENT_CANCELLED:
        return registrations.filter(cancel_reason=Registration.CancelReason.EVENT_CANCELLED)
    if kind == Mail.Kind.PROMOTED:
        return registrations.filter(status=Registration.Status.CONFIRMED, promoted_at=fan_out.promoted_at)
    if kind == Mail.Kind.REMINDER:
        return registrations.filter(status=Registration.Status.CONFIRMED).exclude(
            user_id__in=reminded_users(event_id=fan_out.event_id)
        )
    raise ValueError(f"no fan-out for {kind} mails")
