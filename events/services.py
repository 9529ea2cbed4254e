"""Every write on events: sanitized, validated and locked here, so the API,
the admin and the commands share one set of rules."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from eventmaster.roles import Role, has_role
from registrations.selectors import registration_confirmed_count
from registrations.services import registrations_cancel_for_event, waitlist_promote

from .errors import (
    CapacityBelowRegistrationsError,
    EventAlreadyCancelledError,
    EventHasRegistrationsError,
    InvalidStatusError,
    NotCheckinStaffError,
)
from .models import Event
from .sanitize import sanitize_description, sanitize_plain_text
from .selectors import event_get_locked

EDITABLE_FIELDS = ("title", "description", "location", "start_at", "end_at", "capacity", "waitlist_enabled")


def _apply(event: Event, changes: dict) -> None:
    """Set fields on ``event``, sanitized, then check what must always hold
    (the database checks it again: capacity >= 1, end after start)."""
    for field, value in changes.items():
        if field in ("title", "location"):
            value = sanitize_plain_text(value)
        elif field == "description":
            value = sanitize_description(value)
        setattr(event, field, value)
    errors = {}
    if not event.title:
        errors["title"] = ValidationError("The title must contain text.", code="blank")
    if (
        isinstance(event.start_at, datetime)
        and isinstance(event.end_at, datetime)
        and event.end_at <= event.start_at
    ):
        errors["end_at"] = ValidationError("The event must end after it starts.", code="end_before_start")
    if event.capacity is None or event.capacity < 1:
        errors["capacity"] = ValidationError("Capacity must be at least 1.", code="min_value")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def event_create(*, organizer, status: str = Event.Status.DRAFT, **fields) -> Event:
    """Create an event organized by ``organizer``, as a draft unless
    ``status`` is ``published``. Raises ValidationError (400)."""
    if status not in (Event.Status.DRAFT, Event.Status.PUBLISHED):
        raise ValidationError(
            {"status": ValidationError("A new event is a draft or published.", code="invalid_choice")}
        )
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unknown event fields: {sorted(unknown)}")
    event = Event(organizer=organizer, status=status)
    _apply(event, {"description": "", "location": "", **fields})
    event.save()
    return event


@transaction.atomic
def event_update(*, event: Event, **changes) -> Event:
    """Partial update. Locks the event row. Lowering capacity below the
    confirmed registrations raises CapacityBelowRegistrationsError; raising it
    promotes waitlisted registrations, oldest first, in this transaction."""
    event = event_get_locked(pk=event.pk)
    old_capacity = event.capacity
    _apply(event, changes)
    if event.capacity < old_capacity and event.capacity < registration_confirmed_count(event=event):
        raise CapacityBelowRegistrationsError()
    event.save()
    if event.capacity > old_capacity:
        waitlist_promote(event=event)
    return event


@transaction.atomic
def event_publish(*, event: Event) -> Event:
    """draft -> published; anything else raises InvalidStatusError."""
    event = event_get_locked(pk=event.pk)
    if event.status != Event.Status.DRAFT:
        raise InvalidStatusError()
    event.status = Event.Status.PUBLISHED
    event.save(update_fields=["status", "updated_at"])
    return event


@transaction.atomic
def event_cancel(*, event: Event) -> Event:
    """Cancel the event and, in the same transaction, every active
    registration (reason ``event_cancelled``). Raises
    EventAlreadyCancelledError."""
    event = event_get_locked(pk=event.pk)
    if event.status == Event.Status.CANCELLED:
        raise EventAlreadyCancelledError()
    event.status = Event.Status.CANCELLED
    event.save(update_fields=["status", "updated_at"])
    registrations_cancel_for_event(event=event)
    return event


@transaction.atomic
def event_delete(*, event: Event) -> None:
    """Delete an event that never had a registration; otherwise raise
    EventHasRegistrationsError (nothing is ever silently destroyed)."""
    event = event_get_locked(pk=event.pk)
    if event.registrations.exists():
        raise EventHasRegistrationsError()
    event.delete()


def event_staff_add(*, event: Event, user) -> None:
    """Assign door staff; the user must hold the ``checkin`` role."""
    if not has_role(user, Role.CHECKIN):
        raise NotCheckinStaffError()
    event.staff.add(user)


def event_staff_remove(*, event: Event, user) -> None:
    event.staff.remove(user)
