"""Every registration rule, in one place: the API, the admin and the
management commands all call these functions."""

from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from eventmaster import audit, db, public_cache, tasks
from eventmaster.models import DomainEvent
from events.models import Event
from events.selectors import event_get_locked
from events.services import PUBLIC_LIST, public_pages_changed

from . import mails
from .errors import (
    AlreadyCancelledError,
    AlreadyCheckedInError,
    AlreadyRegisteredError,
    EventFullError,
    IdempotencyKeyReusedError,
    RegistrationClosedError,
)
from .models import IdempotencyKey, Mail, MailFanOut, Registration
from .selectors import COUNTED, CountDrift, event_counts_drift, registration_count_of, reminder_candidates


def registration_create(*, event: Event, user: User) -> Registration:
    """Register ``user``: confirmed while seats are free, else waitlisted
    (if the event has a waitlist).

    Locks the event row, decides on its counter columns and inserts under
    that lock, moving the counter in the same transaction, so concurrent
    sign-ups in any number of processes never exceed capacity.
    Raises RegistrationClosedError (draft, cancelled, started),
    AlreadyRegisteredError (the partial unique constraint on the event and
    user of active registrations decides: no query asks first), and
    EventFullError (full, no waitlist).
    """
    return _create(event_id=event.pk, user=user, visible_to=None)


def registration_sign_up(*, event_id: UUID, user: User) -> Registration:
    """``registration_create`` of the caller by event id, as the API's
    sign-up: an event the caller may not see is Http404, decided on the
    locked row (one read of the event per sign-up). The usual one, a seat
    on an open event, is one statement on PostgreSQL (``_confirm_at_once``)."""
    return _create(event_id=event_id, user=user, visible_to=user)


def _confirm_at_once(*, event_id: UUID, user: User) -> Registration | None:
    """A confirmed sign-up in one statement on PostgreSQL, its own
    transaction in autocommit (no BEGIN, locked read and COMMIT: one round
    trip instead of four): the counter UPDATE of the event, conditioned on
    an open published event with a free seat, and, from its row, the
    registration, its mail and its domain event (``_confirm_sql``).

    The UPDATE takes the event's row lock, as ``event_get_locked`` does,
    and re-checks its conditions on the row's latest version once it has
    the lock, so capacity is decided under the same lock as on the general
    path, and the counters move in the statement that decides. A duplicate
    sign-up raises the unique violation; the whole statement is undone.
    None, having changed nothing, when the event is not open, full, not
    there or not the caller's to see (the general path, ``_create``,
    decides and answers), on SQLite (no writes in WITH), in the test
    settings' lock-less control run, and when the sign-up needs its audit
    entry (never through the API: a member's own registration)."""
    if connection.vendor != "postgresql" or getattr(settings, "UNSAFE_DISABLE_CAPACITY_LOCK", False):
        return None
    status = Registration.Status.CONFIRMED
    data = audit.unaudited_event_data(
        "registration.created", attendee_id=user.pk, changes={"status": (None, status)}
    )
    if data is None:
        return None
    now = timezone.now()
    registration = Registration(event_id=event_id, user=user, status=status)
    mail, mail_committed = mails.new(registration, Mail.Kind.CONFIRMED)
    registration_names, registration_params = db.new_row(registration)
    mail_names, mail_params = db.new_row(mail)
    event_pk = db.prep(Event._meta.pk, event_id)
    params = [
        event_pk, Event.Status.PUBLISHED, now,
        *registration_params,
        *mail_params,
        "registration.created", now, event_pk, "registration", str(registration.pk),
        db.prep(DomainEvent._meta.get_field("data"), data),
    ]  # fmt: skip
    # Inside a transaction (a caller's, a test's), a savepoint keeps a
    # duplicate's error from aborting it.
    with transaction.atomic() if connection.in_atomic_block else nullcontext():
        rows = db.fetch(_confirm_sql(registration_names, mail_names), params)
    if not rows:
        return None
    event = _CONFIRMED_EVENT.instance(rows[0])
    registration.event = event
    db.saved(registration)
    db.saved(mail)
    registration.waitlist_position_raw = None
    transaction.on_commit(mail_committed, robust=True)
    audit.outbox_written()
    public_pages_changed(event)
    return registration


_CONFIRMED_EVENT = db.Columns(Event, "e")


@cache
def _confirm_sql(registration_names: tuple[str, ...], mail_names: tuple[str, ...]) -> str:
    confirmed = db.column(Event, "confirmed_count")
    # Identifiers come from the models' metadata; values are always parameters.
    return f"""
        WITH e AS (
            UPDATE {db.table(Event)} SET {confirmed} = {confirmed} + 1
            WHERE {db.column(Event, "id")} = %s AND {db.column(Event, "status")} = %s
                AND {db.column(Event, "start_at")} > %s AND {confirmed} < {db.column(Event, "capacity")}
            RETURNING *
        ), r AS (
            {db.insert_from_sql(Registration, registration_names, "e")}
        ), m AS (
            {db.insert_from_sql(Mail, mail_names, "e")} ON CONFLICT DO NOTHING
        ), d AS (
            {db.insert_from_sql(DomainEvent, _DOMAIN_EVENT_NAMES, "e")}
        )
        SELECT {_CONFIRMED_EVENT.sql()} FROM e
    """  # noqa: S608


_DOMAIN_EVENT_NAMES = ("type", "occurred_at", "event_id", "object_type", "object_id", "data")


def _create(*, event_id: UUID, user: User, visible_to: User | None) -> Registration:
    try:
        # The API's sign-up tries the one statement first.
        if visible_to is not None and (registration := _confirm_at_once(event_id=event_id, user=user)):
            return registration
        return _registration_create(event_id=event_id, user=user, visible_to=visible_to)
    except IntegrityError as exc:
        # Raised by the INSERT, after the statement, transaction or
        # savepoint that ran it rolled back: nothing of it remains.
        raise AlreadyRegisteredError() from exc


@transaction.atomic
def _registration_create(*, event_id: UUID, user: User, visible_to: User | None) -> Registration:
    return _register_locked(event_get_locked(pk=event_id, visible_to=visible_to), user)


def _register_locked(event: Event, user: User) -> Registration:
    """The sign-up itself; the caller holds ``event``'s row lock. A sign-up
    is the busiest write, so its three writes are SQL text built once
    (eventmaster.db; nothing listens to these models' saves)."""
    if event.status != Event.Status.PUBLISHED or event.start_at <= timezone.now():
        raise RegistrationClosedError()
    position = None
    if event.confirmed_count < event.capacity:
        status = Registration.Status.CONFIRMED
    elif event.waitlist_enabled:
        status = Registration.Status.WAITLISTED
        position = event.waitlisted_count + 1
    else:
        # Someone already registered hears that, not that the event is full.
        if Registration.objects.filter(
            event=event, user=user, status__in=Registration.ACTIVE_STATUSES
        ).exists():
            raise AlreadyRegisteredError()
        raise EventFullError()
    # Under the event's lock a second sign-up of the same user waits for the
    # first and then violates the unique constraint: the caller turns that
    # into AlreadyRegisteredError.
    registration = Registration(event=event, user=user, status=status)
    # Four writes to four tables, one statement on PostgreSQL (db.together):
    # a duplicate sign-up's unique violation is raised when the block ends.
    with db.together():
        db.insert_new(registration)
        if status == Registration.Status.CONFIRMED:
            _counts_move(event, confirmed=1)
        else:
            _counts_move(event, waitlisted=1)
        if status == Registration.Status.CONFIRMED:
            mails.queue(registration, Mail.Kind.CONFIRMED)
        registration_record("registration.created", registration, changes={"status": (None, status)})
    # Everything its representation needs, read under the lock: the answer
    # to a committed registration never needs another trip to the database.
    registration.waitlist_position_raw = position
    return registration


@transaction.atomic
def registration_create_once(
    *, event_id: UUID, user: User, key: str, scope: str, render: Callable[[Registration], dict[str, Any]]
) -> tuple[int, dict[str, Any]]:
    """``registration_sign_up`` behind an idempotency key: the first call
    registers and stores ``render(registration)`` with the key in the same
    transaction; a later call with the same user and key returns the stored
    (status, body), whether or not its client heard the first answer.

    A call running in parallel with the first waits on the event lock and
    then finds its key. Raises what registration_sign_up raises (nothing is
    stored then: a retry runs again), and IdempotencyKeyReusedError for a
    key used with another ``scope`` (request)."""
    stored = _stored_answer(user=user, key=key, scope=scope)
    if stored is not None:
        return stored
    event = event_get_locked(pk=event_id, visible_to=user)
    stored = _stored_answer(user=user, key=key, scope=scope)
    if stored is not None:
        return stored
    try:
        with transaction.atomic():  # a savepoint: the duplicate's INSERT fails alone
            registration = _register_locked(event, user)
    except IntegrityError as exc:
        raise AlreadyRegisteredError() from exc
    body = render(registration)
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(user=user, key=key, scope=scope, status_code=201, body=body)
    except IntegrityError as exc:
        # The same key, committed meanwhile by a request for another event
        # (which held another event's lock).
        raise IdempotencyKeyReusedError() from exc
    return 201, body


def _stored_answer(*, user: User, key: str, scope: str) -> tuple[int, dict[str, Any]] | None:
    stored = IdempotencyKey.objects.filter(user=user, key=key).first()
    if stored is None:
        return None
    if stored.scope != scope:
        raise IdempotencyKeyReusedError()
    return stored.status_code, stored.body


def idempotency_keys_purge(*, older_than: datetime) -> int:
    """Delete the idempotency keys created before ``older_than``."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=older_than).delete()
    return deleted


@transaction.atomic
def registration_cancel(*, registration: Registration, by: User) -> Registration:
    """Cancel a registration (by its attendee, or by the event's organizer or
    an admin) and give the freed seat to the oldest waitlisted registration
    in the same transaction; the event's counters move with them (one UPDATE).

    Locks the event row, then the registration (always in that order).
    Raises AlreadyCancelledError, AlreadyCheckedInError.
    """
    event = event_get_locked(pk=registration.event_id)
    registration = (
        Registration.objects.select_for_update(of=("self",)).select_related("user").get(pk=registration.pk)
    )
    registration.event = event
    # A cancelled event's registrations are cancelled with it, even those
    # a worker has not rewritten yet (registrations_cancel_deferred).
    if registration.status == Registration.Status.CANCELLED or event.status == Event.Status.CANCELLED:
        raise AlreadyCancelledError()
    if registration.checked_in_at is not None:
        raise AlreadyCheckedInError()
    before = registration.status
    was_confirmed = before == Registration.Status.CONFIRMED
    registration.status = Registration.Status.CANCELLED
    registration.cancelled_at = timezone.now()
    registration.cancel_reason = (
        Registration.CancelReason.ATTENDEE_CANCELLED
        if by.pk == registration.user_id
        else Registration.CancelReason.ORGANIZER_CANCELLED
    )
    registration.save(update_fields=["status", "cancelled_at", "cancel_reason"])
    registration_record(
        "registration.cancelled",
        registration,
        changes={
            "status": (before, registration.status),
            "cancel_reason": (None, registration.cancel_reason),
        },
    )
    mails.queue(registration, Mail.Kind.CANCELLED)
    if was_confirmed:
        promoted = _promote(event, free=event.capacity - (event.confirmed_count - 1))
        _counts_move(event, confirmed=promoted - 1, waitlisted=-promoted)
    else:
        _counts_move(event, waitlisted=-1)
    return registration


def waitlist_promote(*, event: Event) -> int:
    """Confirm waitlisted registrations, oldest first, while seats are free,
    and move the event's counters; returns how many. Set-based: one UPDATE
    whatever their number.

    The caller holds the event's row lock (``event_get_locked``) inside its
    transaction and passes that locked row: its counters decide, and the
    promotion must not interleave with other writers."""
    if event.status == Event.Status.CANCELLED:  # its waitlist waits for registrations_cancel_deferred
        return 0
    promoted = _promote(event, free=event.capacity - event.confirmed_count)
    if promoted:
        _counts_move(event, confirmed=promoted, waitlisted=-promoted)
    return promoted


def _promote(event: Event, *, free: int) -> int:
    """Confirm up to ``free`` waitlisted registrations, oldest first, in one
    UPDATE (every writer of an event's registrations holds the event's lock,
    so the waitlist cannot move meanwhile), and mail them (a fan-out: they
    are found by their ``promoted_at``). The caller moves the counters."""
    if free <= 0:
        return 0
    now = timezone.now()
    oldest = (
        Registration.objects.filter(event=event, status=Registration.Status.WAITLISTED)
        .order_by("created_at", "id")
        .values("pk")[:free]
    )
    promoted = Registration.objects.filter(pk__in=oldest).update(
        status=Registration.Status.CONFIRMED, promoted_at=now
    )
    if promoted:
        mails.queue_fan_out(event.pk, Mail.Kind.PROMOTED, promoted_at=now)
        audit.record_many(
            "registration.promoted",
            object_type="registration",
            objects=Registration.objects.filter(event=event, promoted_at=now)
            .order_by("created_at", "id")
            .values_list("pk", "user_id"),
            event_id=event.pk,
            changes={"status": (Registration.Status.WAITLISTED, Registration.Status.CONFIRMED)},
        )
    return promoted


def _counts_move(event: Event, *, confirmed: int = 0, waitlisted: int = 0) -> None:
    """Add to the counters of ``event``, whose row the caller has locked: one
    UPDATE with F() (relative, so it stays exact even in the test settings'
    lock-less control run), mirrored on the instance. ``updated_at`` is the
    event's own edits, so it does not move."""
    if not confirmed and not waitlisted:
        return
    db.execute(_counts_move_sql(), [confirmed, waitlisted, db.prep(Event._meta.pk, event.pk)])
    event.confirmed_count += confirmed
    event.waitlisted_count += waitlisted
    public_pages_changed(event)


def registration_record(type: str, registration: Registration, **details: Any) -> None:
    """Record a domain event about ``registration`` (eventmaster.audit): its
    event, and its attendee, whose own actions on it are not audited. The
    checkin app records its scans with it too."""
    audit.record(
        type,
        object_type="registration",
        object_id=registration.pk,
        event_id=registration.event_id,
        attendee_id=registration.user_id,
        **details,
    )


@cache
def _counts_move_sql() -> str:
    confirmed, waitlisted = db.column(Event, "confirmed_count"), db.column(Event, "waitlisted_count")
    # Identifiers come from the models' metadata; values are parameters.
    return (
        f"UPDATE {db.table(Event)} SET {confirmed} = {confirmed} + %s, {waitlisted} = {waitlisted} + %s "  # noqa: S608
        f"WHERE {db.column(Event, 'id')} = %s"
    )


def registrations_cancel_for_event(*, event: Event) -> int:
    """Cancel every active registration of a cancelled event (reason
    ``event_cancelled``) in one UPDATE, whatever their number, set its
    counters to 0, and mail those attendees (a fan-out, by workers). The
    caller holds the event's row lock."""
    cancelled = Registration.objects.filter(event=event, status__in=Registration.ACTIVE_STATUSES).update(
        status=Registration.Status.CANCELLED,
        cancelled_at=timezone.now(),
        cancel_reason=Registration.CancelReason.EVENT_CANCELLED,
    )
    Event.objects.filter(pk=event.pk).update(confirmed_count=0, waitlisted_count=0)
    event.confirmed_count = event.waitlisted_count = 0
    if cancelled:
        mails.queue_fan_out(event.pk, Mail.Kind.EVENT_CANCELLED)
    return cancelled


def event_counts_refresh(*, events: QuerySet[Event]) -> int:
    """Set the counters of ``events`` to what their registrations say: one
    set-based UPDATE. For repairs (``recount_events --fix``, under each
    event's lock) and test data written around the services; returns the
    number of events updated."""
    public_cache.invalidate(PUBLIC_LIST)  # event pages: their entries expire within seconds
    return events.order_by().update(
        **{column: registration_count_of(status) for column, status in COUNTED.items()}
    )


def reminders_queue(*, now: datetime, within: timedelta) -> tuple[int, int]:
    """Queue the reminder of every confirmed attendee of the published events
    starting within ``within`` who has not had it: a fan-out per event, so
    the mails go from the workers, each recorded as sent when it is sent.
    Each attendee gets at most one reminder per event however often this
    runs. Returns (events, attendees) queued."""
    waiting = list(
        reminder_candidates(now=now, within=within)
        .values("event_id")
        .annotate(attendees=Count("pk"))
        .values_list("event_id", "attendees")
    )
    events = 0
    for event_id, _attendees in waiting:
        with transaction.atomic():
            open_fan_out = MailFanOut.objects.filter(
                event_id=event_id, kind=Mail.Kind.REMINDER, done_at__isnull=True
            ).exists()
            if not open_fan_out:  # one still running will find these too
                mails.queue_fan_out(event_id, Mail.Kind.REMINDER)
                events += 1
    return events, sum(attendees for _, attendees in waiting)


@transaction.atomic
def event_counts_fix(*, event_id: UUID) -> list[CountDrift]:
    """Recount one event under its row lock and correct its counters when
    they drifted; returns the drift found under the lock (empty: nothing
    to correct)."""
    event = event_get_locked(pk=event_id)
    only_this = Event.objects.filter(pk=event.pk)
    drift = event_counts_drift(events=only_this)
    if drift:
        event_counts_refresh(events=only_this)
    return drift


def on_event_cancelled(*, event: Event, **_signal: Any) -> None:
    """events.signals.event_cancelled: every active registration goes too,
    in this transaction when they are few (up to EVENT_CANCEL_INLINE_MAX),
    else by a worker, soon after the commit (``registrations_cancel_deferred``)."""
    if event.confirmed_count + event.waitlisted_count <= settings.EVENT_CANCEL_INLINE_MAX:
        registrations_cancel_for_event(event=event)
        return
    from .tasks import cancel_registrations_of_event

    event_id = str(event.pk)
    tasks.enqueue_on_commit(cancel_registrations_of_event, event_id)


@transaction.atomic
def registrations_cancel_deferred(*, event_id: UUID) -> int:
    """The cancellation of a big cancelled event's registrations, by a
    worker: one UPDATE under the event's lock (``registrations_cancel_for_event``),
    with their mails. Until it ran, every service treats them as cancelled
    (the event's status decides: no sign-up, no promotion, no cancel, no
    check-in). Idempotent; returns how many it cancelled."""
    event = event_get_locked(pk=event_id)
    if event.status != Event.Status.CANCELLED:
        return 0
    return registrations_cancel_for_event(event=event)


def registrations_cancel_resume(*, now: datetime | None = None) -> int:
    """Housekeeping: queue again the deferred cancellation of every cancelled
    event that still counts active registrations MAIL_RESUME_AFTER_SECONDS
    after it was cancelled (its task was lost). Returns how many events."""
    from .tasks import cancel_registrations_of_event

    cutoff = (now or timezone.now()) - timedelta(seconds=settings.MAIL_RESUME_AFTER_SECONDS)
    stuck = Event.objects.filter(status=Event.Status.CANCELLED, updated_at__lt=cutoff).filter(
        Q(confirmed_count__gt=0) | Q(waitlisted_count__gt=0)
    )
    event_ids = [str(pk) for pk in stuck.values_list("pk", flat=True)[:100]]
    for event_id in event_ids:
        tasks.enqueue(cancel_registrations_of_event, event_id)
    return len(event_ids)


def on_event_capacity_raised(*, event: Event, **_signal: Any) -> None:
    """events.signals.event_capacity_raised: freed seats go to the waitlist."""
    waitlist_promote(event=event)
