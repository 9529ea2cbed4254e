"""Door check-in: every scan and undo, for the API, the admin and the
``checkin`` command alike."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from uuid import UUID

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from eventmaster import db
from events.models import Event
from registrations import signing
from registrations.models import Registration
from registrations.services import registration_record

from .errors import NonceReusedError
from .models import Scan

Result = Scan.Result


@dataclass(frozen=True)
class ScanOutcome:
    result: str
    registration: Registration | None
    checked_in_at: datetime | None
    checked_in_by: User | None  # the user who checked the ticket in


class _NonceAlreadyUsed(Exception):
    """The scan's nonce is already in the log: this request is a retry."""


def _locked_registration(ticket_code: str, event: Event) -> Registration | None:
    """The ticket's registration (with its user), its row locked until commit,
    so two scanners of one ticket are served one after the other.

    One indexed lookup (ticket_code is unique; a signed ticket, checked
    first, gives the primary key) by SQL text built once
    (eventmaster.db: the ORM's query building was a third of a scan's CPU,
    and this read measured 266 µs by hand against 1,329 µs by the ORM).
    Only the registration row is locked; its user is joined on a column a
    check-in never changes, so a scan that waited for the lock re-reads the
    row as committed. The caller has the scanned-at event already: a ticket
    of that event reuses it (only a wrong_event answer loads its own)."""
    if signing.is_signed(ticket_code):  # a signed ticket names its registration
        ticket = signing.verified(ticket_code)
        if ticket is None:  # forged, altered, or a key this server never made
            return None
        by, value = "id", db.prep(Registration._meta.pk, ticket.registration_id)
    else:
        by, value = "ticket_code", ticket_code
    rows = db.fetch(_locked_registration_sql(connection.vendor, by), [value])
    if not rows:
        return None
    registration = _REGISTRATION.instance(rows[0][: len(_REGISTRATION)])
    registration.user = _ATTENDEE.instance(rows[0][len(_REGISTRATION) :])
    if registration.event_id == event.pk:
        registration.event = event
    return registration


_REGISTRATION = db.Columns(Registration, "r")
_ATTENDEE = db.Columns(User, "u", ["id", "full_name", "email"])


@cache
def _locked_registration_sql(vendor: str, by: str) -> str:
    # SQLite has no row locks (a write locks the whole database); on
    # PostgreSQL only the registration's row is locked, not its user's.
    lock = " FOR UPDATE OF r" if vendor == "postgresql" else ""
    # Identifiers come from the models' metadata; the code is a parameter.
    return f"""
        SELECT {_REGISTRATION.sql()}, {_ATTENDEE.sql()}
        FROM {db.table(Registration)} r
        INNER JOIN {db.table(User)} u ON u.{db.column(User, "id")} = r.{db.column(Registration, "user")}
        WHERE r.{db.column(Registration, by)} = %s{lock}
    """  # noqa: S608


def _refusal(registration: Registration, event: Event) -> str | None:
    """The refusals of a ticket that exists (an unknown one is ``invalid``),
    in docs/api.md's order of precedence."""
    if registration.event_id != event.pk:
        return Result.WRONG_EVENT
    if event.status == Event.Status.CANCELLED:
        return Result.EVENT_CANCELLED
    if registration.status == Registration.Status.CANCELLED:
        return Result.CANCELLED
    if registration.status == Registration.Status.WAITLISTED:
        return Result.NOT_CONFIRMED
    return None


def _outcome(result: str, registration: Registration | None) -> ScanOutcome:
    if registration is None or result == Result.WRONG_EVENT:
        return ScanOutcome(result, registration, None, None)
    return ScanOutcome(result, registration, registration.checked_in_at, registration.checked_in_by)


def checkin_scan(
    *,
    ticket_code: str,
    event: Event,
    by: User | None,
    nonce: UUID | None = None,
    scanned_at: datetime | None = None,
) -> ScanOutcome:
    """Scan a ticket at ``event``: check it in, or say why not.

    Locks the registration row for the transaction. Every attempt is logged
    as a Scan. A ``nonce`` already used by ``by`` (a retry after a network
    drop) returns the original scan's result and writes nothing: the unique
    constraint on (by, nonce) decides, so concurrent retries are safe too.
    The same nonce with another ticket code or event is no retry: the
    attempt is logged (result ``nonce_reused``, without the nonce) and
    NonceReusedError raised.
    """
    try:
        return _scan(ticket_code=ticket_code, event=event, by=by, nonce=nonce, scanned_at=scanned_at)
    except _NonceAlreadyUsed:
        return _replay(ticket_code=ticket_code, event=event, by=by, nonce=nonce, scanned_at=scanned_at)


@transaction.atomic
def _scan(
    *, ticket_code: str, event: Event, by: User | None, nonce: UUID | None, scanned_at: datetime | None
) -> ScanOutcome:
    registration = _locked_registration(ticket_code, event)
    now = timezone.now()
    result: str
    if registration is None:
        result = Result.INVALID
    elif refusal := _refusal(registration, event):
        result = refusal
    elif registration.checked_in_at is not None:
        result = Result.ALREADY_CHECKED_IN
    else:
        result = Result.OK
    try:
        # The check-in, its log line and its domain event: one statement on
        # PostgreSQL (db.together).
        with db.together():
            if result == Result.OK and registration is not None:
                # The same instant as the scan's created_at: stats find the
                # scan that checked a registration in by this equality.
                registration.checked_in_at, registration.checked_in_by = now, by
                db.update(
                    Registration, registration.pk, checked_in_at=now, checked_in_by_id=by.pk if by else None
                )
            _log(event, registration, ticket_code, Scan.Action.CHECKIN, result, by, now, nonce, scanned_at)
            if result == Result.OK and registration is not None:
                # An ordinary scan through the API is not audited (the scan
                # log is its record); from the admin or a command it is
                # (eventmaster.audit).
                registration_record("checkin.created", registration, changes={"checked_in_at": (None, now)})
    except IntegrityError as exc:
        if nonce is None or not _nonce_taken(exc):
            raise
        # The nonce's unique constraint: leaving the atomic block with this
        # exception rolls the check-in back.
        raise _NonceAlreadyUsed() from exc
    return _outcome(result, registration)


@transaction.atomic
def checkin_undo(*, ticket_code: str, event: Event, by: User | None) -> ScanOutcome:
    """Clear a check-in (``undone``), or ``not_checked_in``, or a refusal.
    Locks the registration row; logged as a Scan like every scan."""
    registration = _locked_registration(ticket_code, event)
    now = timezone.now()
    result: str
    if registration is None:
        result = Result.INVALID
    elif refusal := _refusal(registration, event):
        result = refusal
    elif registration.checked_in_at is None:
        result = Result.NOT_CHECKED_IN
    else:
        result = Result.UNDONE
        checked_in_at = registration.checked_in_at
        registration.checked_in_at = registration.checked_in_by = None
        db.update(Registration, registration.pk, checked_in_at=None, checked_in_by_id=None)
    _log(event, registration, ticket_code, Scan.Action.UNDO, result, by, now, None, None)
    if result == Result.UNDONE and registration is not None:
        registration_record("checkin.undone", registration, changes={"checked_in_at": (checked_in_at, None)})
    return _outcome(result, registration)


def _nonce_taken(exc: IntegrityError) -> bool:
    """Whether ``exc`` is the (by, nonce) constraint's: a retry. PostgreSQL
    names the constraint; SQLite names the columns."""
    diag = getattr(exc.__cause__, "diag", None)
    if diag is not None:
        return bool(diag.constraint_name == _NONCE_CONSTRAINT)
    table = Scan._meta.db_table
    return f"{table}.{Scan._meta.get_field('nonce').column}" in str(exc)


_NONCE_CONSTRAINT = "scan_nonce_once_per_user"


def _log(
    event: Event,
    registration: Registration | None,
    ticket_code: str,
    action: str,
    result: str,
    by: User | None,
    now: datetime,
    nonce: UUID | None,
    scanned_at: datetime | None,
) -> None:
    db.insert(
        Scan,
        event_id=event.pk,
        registration_id=registration.pk if registration is not None else None,
        ticket_code=ticket_code[:255],
        action=action,
        result=result,
        by_id=by.pk if by else None,
        created_at=now,
        nonce=nonce,
        scanned_at=scanned_at,
    )


def _replay(
    *, ticket_code: str, event: Event, by: User | None, nonce: UUID | None, scanned_at: datetime | None
) -> ScanOutcome:
    """The original scan's outcome, for a retry; only here, off the hot
    path, is the nonce's original request compared with this one."""
    original = Scan.objects.select_related(
        "registration__event", "registration__user", "registration__checked_in_by"
    ).get(by=by, nonce=nonce)
    if original.ticket_code != ticket_code[:255] or original.event_id != event.pk:
        _log_nonce_reused(ticket_code=ticket_code, event=event, by=by, scanned_at=scanned_at)
        raise NonceReusedError()
    return _outcome(original.result, original.registration)


@transaction.atomic
def _log_nonce_reused(
    *, ticket_code: str, event: Event, by: User | None, scanned_at: datetime | None
) -> None:
    # Committed before the error is raised (callers must not wrap the scan in
    # a transaction that rolls back on it: the API's views do not). Nothing
    # is checked in, so the registration row is not locked.
    ticket = signing.verified(ticket_code) if signing.is_signed(ticket_code) else None
    by_code = Q(pk=ticket.registration_id) if ticket else Q(ticket_code=ticket_code)
    registration = Registration.objects.filter(by_code).only("pk").first()
    _log(
        event,
        registration,
        ticket_code,
        Scan.Action.CHECKIN,
        Result.NONCE_REUSED,
        by,
        timezone.now(),
        None,
        scanned_at,
    )
