"""Every registration rule, in one place: the API, the admin and the
management commands all call these functions."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from events.models import Event
from events.selectors import event_get_locked

from . import notifications
from .errors import (
    AlreadyCancelledError,
    AlreadyCheckedInError,
    AlreadyRegisteredError,
    EventFullError,
    RegistrationClosedError,
)
from .models import Registration, Reminder
from .selectors import registration_confirmed_count


@transaction.atomic
def registration_create(*, event: Event, user) -> Registration:
    """Register ``user``: confirmed while seats are free, else waitlisted
    (if the event has a waitlist).

    Locks the event row, then re-counts and inserts under that lock, so
    concurrent sign-ups in any number of processes never exceed capacity.
    Raises RegistrationClosedError (draft, cancelled, started),
    AlreadyRegisteredError (also when a parallel request of the same user
    wins the partial unique constraint), EventFullError (full, no waitlist).
    """
    event = event_get_locked(pk=event.pk)
    if event.status != Event.Status.PUBLISHED or event.start_at <= timezone.now():
        raise RegistrationClosedError()
    if Registration.objects.filter(event=event, user=user, status__in=Registration.ACTIVE_STATUSES).exists():
        raise AlreadyRegisteredError()
    if registration_confirmed_count(event=event) < event.capacity:
        status = Registration.Status.CONFIRMED
    elif event.waitlist_enabled:
        status = Registration.Status.WAITLISTED
    else:
        raise EventFullError()
    try:
        with transaction.atomic():
            registration = Registration.objects.create(event=event, user=user, status=status)
    except IntegrityError as exc:
        raise AlreadyRegisteredError() from exc
    if status == Registration.Status.CONFIRMED:
        notifications.notify_confirmed(registration)
    return registration


@transaction.atomic
def registration_cancel(*, registration: Registration, by) -> Registration:
    """Cancel a registration (by its attendee, or by the event's organizer or
    an admin) and give the freed seat to the oldest waitlisted registration
    in the same transaction.

    Locks the event row, then the registration (always in that order).
    Raises AlreadyCancelledError, AlreadyCheckedInError.
    """
    event = event_get_locked(pk=registration.event_id)
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if registration.status == Registration.Status.CANCELLED:
        raise AlreadyCancelledError()
    if registration.checked_in_at is not None:
        raise AlreadyCheckedInError()
    was_confirmed = registration.status == Registration.Status.CONFIRMED
    registration.status = Registration.Status.CANCELLED
    registration.cancelled_at = timezone.now()
    registration.cancel_reason = (
        Registration.CancelReason.ATTENDEE_CANCELLED
        if by.pk == registration.user_id
        else Registration.CancelReason.ORGANIZER_CANCELLED
    )
    registration.save(update_fields=["status", "cancelled_at", "cancel_reason"])
    notifications.notify_cancelled(registration)
    if was_confirmed:
        waitlist_promote(event=event)
    return registration


def waitlist_promote(*, event: Event) -> list[Registration]:
    """Confirm waitlisted registrations, oldest first, while seats are free.

    The caller holds the event's row lock (``event_get_locked``) inside its
    transaction: the count and the promotion must not interleave with other
    writers."""
    free = event.capacity - registration_confirmed_count(event=event)
    if free <= 0:
        return []
    promoted = list(
        Registration.objects.select_for_update()
        .filter(event=event, status=Registration.Status.WAITLISTED)
        .order_by("created_at", "id")[:free]
    )
    Registration.objects.filter(pk__in=[r.pk for r in promoted]).update(status=Registration.Status.CONFIRMED)
    for registration in promoted:
        registration.status = Registration.Status.CONFIRMED
    notifications.notify_promoted(promoted)
    return promoted


def registrations_cancel_for_event(*, event: Event) -> int:
    """Cancel every active registration of a cancelled event (reason
    ``event_cancelled``) and tell those attendees after commit. The caller
    holds the event's row lock."""
    active = Registration.objects.filter(event=event, status__in=Registration.ACTIVE_STATUSES)
    ids = list(active.values_list("pk", flat=True))
    Registration.objects.filter(pk__in=ids).update(
        status=Registration.Status.CANCELLED,
        cancelled_at=timezone.now(),
        cancel_reason=Registration.CancelReason.EVENT_CANCELLED,
    )
    notifications.notify_event_cancelled(ids)
    return len(ids)


@transaction.atomic
def reminder_send(*, registration: Registration) -> bool:
    """Record and (after commit) send the reminder of one attendee for one
    event; False when they already had it. The unique constraint on
    (event, user) decides, so overlapping runs never send twice."""
    _, created = Reminder.objects.get_or_create(
        event_id=registration.event_id, user_id=registration.user_id, defaults={"registration": registration}
    )
    if created:
        notifications.notify_reminder(registration)
    return created
