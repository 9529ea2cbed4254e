"""Every write on events: sanitized, validated and locked here, so the API,
the admin and the commands share one set of rules."""

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from eventmaster import audit, db, public_cache
from eventmaster.roles import Role, has_role

from . import signals
from .errors import (
    NO_EVENT_YOU_ORGANIZE,
    CapacityBelowRegistrationsError,
    EventAlreadyCancelledError,
    EventHasRegistrationsError,
    InvalidStatusError,
    NotCheckinStaffError,
)
from .models import Event, WebhookEndpoint, new_webhook_secret
from .sanitize import sanitize_description, sanitize_plain_text
from .selectors import event_get_locked

EDITABLE_FIELDS = ("title", "description", "location", "start_at", "end_at", "capacity", "waitlist_enabled")


def event_validate(event: Event, changes: dict[str, Any]) -> dict[str, Any]:
    """Sanitize ``changes`` and check what must hold once they are applied to
    ``event`` (the database checks it again: capacity >= 1, end after start).
    Returns the sanitized changes; raises ValidationError. Writes nothing:
    the admin's form calls it too, so its errors show on the form."""
    sanitized: dict[str, Any] = {}
    for field, value in changes.items():
        if field in ("title", "location"):
            value = sanitize_plain_text(value)
        elif field == "description":
            value = sanitize_description(value)
        sanitized[field] = value

    def final(field: str) -> Any:
        return sanitized.get(field, getattr(event, field))

    errors: dict[str, ValidationError] = {}
    if not final("title"):
        errors["title"] = ValidationError("The title must contain text.", code="blank")
    start_at, end_at = final("start_at"), final("end_at")
    if isinstance(start_at, datetime) and isinstance(end_at, datetime) and end_at <= start_at:
        errors["end_at"] = ValidationError("The event must end after it starts.", code="end_before_start")
    if final("capacity") is None or final("capacity") < 1:
        errors["capacity"] = ValidationError("Capacity must be at least 1.", code="min_value")
    if errors:
        raise ValidationError(errors)
    return sanitized


def event_check_capacity(*, event: Event, capacity: int) -> None:
    """A capacity below the confirmed registrations raises
    CapacityBelowRegistrationsError (lowering to exactly that many is fine).
    Decided on the event's counter column: event_update passes the row it
    has locked (the admin's form checks its own copy first, for the form
    error, and the save checks again under the lock)."""
    # A new event has a pk already (UUID default): ask whether it is stored.
    if event._state.adding:
        return
    if capacity < event.capacity and capacity < event.confirmed_count:
        raise CapacityBelowRegistrationsError()


@transaction.atomic
def event_create(*, organizer: User, status: str = Event.Status.DRAFT, **fields: Any) -> Event:
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
    for field, value in event_validate(event, {"description": "", "location": "", **fields}).items():
        setattr(event, field, value)
    event.save()
    public_pages_changed(event)
    if event.status == Event.Status.PUBLISHED:
        _record("event.published", event, changes={"status": (None, event.status)})
    return event


# The public cache's namespaces of the anonymous event pages.
PUBLIC_LIST = "events"


def public_detail(pk: Any) -> str:
    return f"event:{pk}"


def public_pages_changed(event: Event) -> None:
    """The anonymous list and this event's page render afresh once the
    current transaction commits (eventmaster.public_cache): every service
    that changes what they show calls it, the registrations app's too."""
    public_cache.invalidate(PUBLIC_LIST, public_detail(event.pk))


@transaction.atomic
def event_update(*, event: Event, **changes: Any) -> Event:
    """Partial update. Locks the event row. Lowering capacity below the
    confirmed registrations raises CapacityBelowRegistrationsError; raising it
    sends ``event_capacity_raised`` in this transaction (the registrations app
    promotes waitlisted registrations, oldest first)."""
    event = event_get_locked(pk=event.pk)
    old_capacity = event.capacity
    changes = event_validate(event, changes)
    if "capacity" in changes:
        event_check_capacity(event=event, capacity=changes["capacity"])
    changed = {
        field: (getattr(event, field), value)
        for field, value in changes.items()
        if getattr(event, field) != value
    }
    for field, value in changes.items():
        setattr(event, field, value)
    # Only the edited fields: the counters belong to registrations.services.
    event.save(update_fields=[*changes, "updated_at"])
    public_pages_changed(event)
    if changed:
        _record("event.updated", event, changes=changed)
    if event.capacity > old_capacity:
        signals.event_capacity_raised.send(sender=Event, event=event, old_capacity=old_capacity)
    return event


@transaction.atomic
def event_publish(*, event: Event) -> Event:
    """draft -> published; anything else raises InvalidStatusError."""
    event = event_get_locked(pk=event.pk)
    if event.status != Event.Status.DRAFT:
        raise InvalidStatusError()
    event.status = Event.Status.PUBLISHED
    event.save(update_fields=["status", "updated_at"])
    public_pages_changed(event)
    _record("event.published", event, changes={"status": (Event.Status.DRAFT, event.status)})
    return event


@transaction.atomic
def event_cancel(*, event: Event) -> Event:
    """Cancel the event and send ``event_cancelled`` in the same transaction
    (the registrations app cancels every active registration, reason
    ``event_cancelled``). Raises EventAlreadyCancelledError."""
    event = event_get_locked(pk=event.pk)
    if event.status == Event.Status.CANCELLED:
        raise EventAlreadyCancelledError()
    before = event.status
    event.status = Event.Status.CANCELLED
    event.save(update_fields=["status", "updated_at"])
    public_pages_changed(event)
    # One record for the event: the registrations cancelled with it are
    # not recorded one by one (a conference has 100,000).
    _record("event.cancelled", event, changes={"status": (before, event.status)})
    signals.event_cancelled.send(sender=Event, event=event)
    return event


@transaction.atomic
def event_delete(*, event: Event) -> None:
    """Delete an event that never had a registration; otherwise raise
    EventHasRegistrationsError (nothing is ever silently destroyed)."""
    event = event_get_locked(pk=event.pk)
    if event.registrations.exists():
        raise EventHasRegistrationsError()
    public_pages_changed(event)
    # Its last state goes with the record: the row is gone.
    _record(
        "event.deleted",
        event,
        data={
            **{
                field: getattr(event, field)
                for field in ("title", "status", "start_at", "end_at", "capacity", "location")
            },
            "organizer_id": event.organizer_id,
        },
    )
    event.delete()


@transaction.atomic
def event_staff_add(*, event: Event, user: User) -> None:
    """Assign door staff; the user must hold the ``checkin`` role."""
    if not has_role(user, Role.CHECKIN):
        raise NotCheckinStaffError()
    _lock_staff(event)
    if not event.staff.filter(pk=user.pk).exists():
        event.staff.add(user)
        _record_staff("staff.added", event, user)


@transaction.atomic
def event_staff_remove(*, event: Event, user: User) -> None:
    _lock_staff(event)
    if event.staff.filter(pk=user.pk).exists():
        event.staff.remove(user)
        _record_staff("staff.removed", event, user)


def _lock_staff(event: Event) -> None:
    """Lock the event's row (PostgreSQL; SQLite has one writer): two requests
    adding or removing the same person take turns, and only the one that
    changed something records it."""
    db.lock_row(Event, event.pk)


def _record(type: str, event: Event, **details: Any) -> None:
    audit.record(type, object_type="event", object_id=event.pk, event_id=event.pk, **details)


def _record_staff(type: str, event: Event, user: User) -> None:
    audit.record(type, object_type="user", object_id=user.pk, event_id=event.pk, data={"email": user.email})


# --- Webhook endpoints (delivery: events.webhooks) -------------------------------------


def _webhook_checked(organizer: User, changes: dict[str, Any], *, url_checked: bool) -> dict[str, Any]:
    """Refuse an event the organizer does not run, an unknown type, then (the
    rest being right) a destination the webhooks may not call. Raises
    ValidationError (400), or LookupTimeoutError when the URL's host name
    does not resolve in time (the API answers 503). ``url_checked``: the
    caller (the admin's form) has just checked the URL."""
    from .rules import can_manage_event
    from .webhooks import UnsafeDestinationError, check_destination

    errors: dict[str, ValidationError] = {}
    event = changes.get("event")
    if event is not None and not can_manage_event(organizer, event):
        errors["event"] = ValidationError(NO_EVENT_YOU_ORGANIZE, code="does_not_exist")
    unknown = set(changes.get("event_types") or ()) - audit.TYPES
    if unknown:
        errors["event_types"] = ValidationError(
            f"Unknown types: {', '.join(sorted(unknown))}.", code="invalid_choice"
        )
    # Last: the lookup may wait on DNS, and a 400 should not turn into a 503.
    if not errors and "url" in changes and not url_checked:
        try:
            check_destination(changes["url"])
        except UnsafeDestinationError as exc:
            errors["url"] = ValidationError(str(exc), code="unsafe_url")
    if errors:
        raise ValidationError(errors)
    return changes


def webhook_endpoint_create(
    *, organizer: User, url: str, url_checked: bool = False, **fields: Any
) -> WebhookEndpoint:
    """A new endpoint of ``organizer``, with a new secret (shown once)."""
    changes = _webhook_checked(organizer, {"url": url, **fields}, url_checked=url_checked)
    return WebhookEndpoint.objects.create(organizer=organizer, **changes)


def webhook_endpoint_update(
    *, endpoint: WebhookEndpoint, url_checked: bool = False, **changes: Any
) -> WebhookEndpoint:
    """Edit an endpoint; setting it active again clears its failing streak."""
    changes = _webhook_checked(endpoint.organizer, changes, url_checked=url_checked)
    for field, value in changes.items():
        setattr(endpoint, field, value)
    if changes.get("active"):
        endpoint.failing_since, endpoint.disabled_reason = None, ""
    endpoint.save()
    return endpoint


def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret; the old one signs nothing from now on."""
    endpoint.secret = new_webhook_secret()
    endpoint.save(update_fields=["secret"])
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()
