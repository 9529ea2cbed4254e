"""Door check-in: every scan and undo, for the API, the admin and the
``checkin`` command alike."""

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from eventmaster import audit, db
from eventmaster.models import DomainEvent
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
    checked_in_device: str | None = None  # and the device they did it with, if it said


class _NonceAlreadyUsed(Exception):
    """The scan's nonce is already in the log: this request is a retry."""


TicketKey = tuple[str, Any]  # the registration's column and the value that finds the ticket


def _ticket_key(ticket_code: str) -> TicketKey | None:
    """How to find a ticket's registration: by primary key for a signed
    ticket (verified here, once per scan), by code otherwise; None for a
    signed ticket whose signature does not hold (forged, altered, or a key
    this server never made)."""
    if signing.is_signed(ticket_code):
        ticket = signing.verified(ticket_code)
        if ticket is None:
            return None
        return "id", db.prep(Registration._meta.pk, ticket.registration_id)
    return "ticket_code", ticket_code


def _locked_registration(key: TicketKey | None, event: Event) -> Registration | None:
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
    if key is None:
        return None
    by, value = key
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
    return ScanOutcome(
        result,
        registration,
        registration.checked_in_at,
        registration.checked_in_by,
        (registration.checked_in_device or None) if registration.checked_in_at else None,
    )


IN, OUT = "in", "out"


def checkin_scan(
    *,
    ticket_code: str,
    event: Event,
    by: User | None,
    nonce: UUID | None = None,
    scanned_at: datetime | None = None,
    direction: str = IN,
    device: str = "",
    may_overtake: bool = False,
) -> ScanOutcome:
    """Scan a ticket at ``event``: let its attendee in (``direction`` "in")
    or out ("out"), or say why not.

    In: ``ok`` for the first entry (the check-in) and for a re-entry after
    an exit; ``already_checked_in`` while inside. Out: ``ok`` when inside,
    else ``not_inside``. Locks the registration row for the transaction.
    Every attempt is logged as a Scan, with ``device`` (the client's name
    for the device that scanned). A ``nonce`` already used by ``by`` (a
    retry after a network drop, a batch sent again) returns that scan's
    result in the log (its first answer, unless a scan made earlier
    overtook it since) and writes nothing: the unique constraint on (by, nonce)
    decides, so concurrent retries are safe too. The same nonce with
    another ticket code, event or direction is no retry: the attempt is
    logged (result ``nonce_reused``, without the nonce) and NonceReusedError
    raised. ``may_overtake`` (scans synced from offline, checkin_batch):
    an entry made before the recorded check-in takes it over
    (``_overtaken_entry``); a live scan never does, whatever ``scanned_at``
    it says (a second entry on a shared ticket must stay refused).
    """
    if direction not in (IN, OUT):
        raise ValueError(f"direction is 'in' or 'out', not {direction!r}")
    device = device[:64]
    key = _ticket_key(ticket_code)
    try:
        if direction == IN and event.status != Event.Status.CANCELLED and key is not None:
            # The usual scan, a first entry, in one statement (PostgreSQL);
            # anything else, and SQLite, by the general path below.
            outcome = _first_entry_at_once(
                key=key, ticket_code=ticket_code, event=event, by=by, nonce=nonce, scanned_at=scanned_at,
                device=device,
            )  # fmt: skip
            if outcome is not None:
                return outcome
        return _scan(
            key=key, ticket_code=ticket_code, event=event, by=by, nonce=nonce, scanned_at=scanned_at,
            direction=direction, device=device, may_overtake=may_overtake,
        )  # fmt: skip
    except _NonceAlreadyUsed:
        return _replay(
            ticket_code=ticket_code, event=event, by=by, nonce=nonce, scanned_at=scanned_at,
            direction=direction, device=device,
        )  # fmt: skip


def checkin_batch(
    *, event: Event, by: User | None, device: str, scans: list[dict[str, Any]]
) -> list[ScanOutcome]:
    """Scans a device made offline, each ``{nonce, ticket_code, scanned_at,
    direction}``: one outcome per scan, in the order given.

    They are applied oldest ``scanned_at`` first (of one ticket's entries in
    the batch, the earliest is the one let in; the later ones are
    ``already_checked_in`` with its time and device), each in its own
    transaction, as ``checkin_scan`` with its nonce: a batch sent again
    changes nothing and gets the log's answers (the same, unless an entry
    made earlier overtook one since). A scan whose nonce was used
    before for another scan is ``nonce_reused`` here (logged), not an error
    for the whole batch. Across devices the earliest entry wins too: an
    entry made before the check-in the server recorded (another device's,
    synced first, or an online scan) takes its place while the ticket has
    had no exit or re-entry since (``_overtaken_entry``); after those, scans
    apply in the order they reach the server."""
    outcomes: list[ScanOutcome | None] = [None] * len(scans)
    order = sorted(range(len(scans)), key=lambda i: (scans[i]["scanned_at"], i))
    for i in order:
        scan = scans[i]
        try:
            outcomes[i] = checkin_scan(
                ticket_code=scan["ticket_code"],
                event=event,
                by=by,
                nonce=scan["nonce"],
                scanned_at=scan["scanned_at"],
                direction=scan.get("direction", IN),
                device=device,
                may_overtake=True,
            )
        except NonceReusedError:
            outcomes[i] = ScanOutcome(Result.NONCE_REUSED, None, None, None)
    return [outcome for outcome in outcomes if outcome is not None]


@transaction.atomic
def _scan(
    *,
    key: TicketKey | None,
    ticket_code: str,
    event: Event,
    by: User | None,
    nonce: UUID | None,
    scanned_at: datetime | None,
    direction: str,
    device: str,
    may_overtake: bool,
) -> ScanOutcome:
    registration = _locked_registration(key, event)
    now = timezone.now()
    result: str
    if registration is None:
        result = Result.INVALID
    elif refusal := _refusal(registration, event):
        result = refusal
    elif direction == OUT:
        result = Result.OK if registration.inside else Result.NOT_INSIDE
    elif registration.inside:
        result = Result.ALREADY_CHECKED_IN
    else:
        result = Result.OK
    # An entry made offline before the one the server recorded first takes
    # its place (docs/api.md, "Offline scans": the earliest entry wins).
    overtaken = (
        _overtaken_entry(registration, scanned_at)
        if may_overtake and result == Result.ALREADY_CHECKED_IN and scanned_at and registration is not None
        else None
    )
    if overtaken is not None:
        result = Result.OK
    first_entry = (
        result == Result.OK
        and direction == IN
        and registration is not None
        and not registration.checked_in_at
    )
    try:
        # The change, its log line and its domain event: one statement on
        # PostgreSQL (db.together).
        with db.together():
            if overtaken is not None and registration is not None:
                _take_over(registration, overtaken, by=by, device=device, now=now)
            elif result == Result.OK and registration is not None:
                _move(
                    registration, direction=direction, first_entry=first_entry, by=by, device=device, now=now
                )
            action = Scan.Action.CHECKIN if direction == IN else Scan.Action.CHECKOUT
            _log(event, registration, ticket_code, action, result, by, now, nonce, scanned_at, device)
            if first_entry and registration is not None:
                # An ordinary scan through the API is not audited (the scan
                # log is its record); from the admin or a command it is
                # (eventmaster.audit). Exits and re-entries are the log's.
                registration_record("checkin.created", registration, changes={"checked_in_at": (None, now)})
    except IntegrityError as exc:
        if nonce is None or not _nonce_taken(exc):
            raise
        # The nonce's unique constraint: leaving the atomic block with this
        # exception rolls the change back.
        raise _NonceAlreadyUsed() from exc
    return _outcome(result, registration)


def _first_entry_at_once(
    *,
    key: TicketKey,
    ticket_code: str,
    event: Event,
    by: User | None,
    nonce: UUID | None,
    scanned_at: datetime | None,
    device: str,
) -> ScanOutcome | None:
    """The check-in of a confirmed ticket of ``event`` not checked in yet,
    its log line and its domain event, in one statement on PostgreSQL (one
    round trip, its own transaction in autocommit: no BEGIN, locked read,
    write and COMMIT); the ``ok`` outcome. None, having changed nothing,
    for any other ticket (unknown, of another event, cancelled, waitlisted,
    inside or checked in before: the general path, ``_scan``, decides),
    on SQLite (no writes in WITH), and for a scan that is audited (from the
    admin or a command). The UPDATE's own row lock and its re-check of the
    conditions after waiting for it serialize two scans of one ticket as
    ``_locked_registration`` does; a used nonce raises _NonceAlreadyUsed."""
    if connection.vendor != "postgresql":
        return None
    now = timezone.now()
    data = audit.unaudited_event_data("checkin.created", changes={"checked_in_at": (None, now)})
    if data is None:
        return None
    by_column, value = key
    event_id, by_id = db.prep(Event._meta.pk, event.pk), db.prep(User._meta.pk, by.pk if by else None)
    params = [
        # the registration: set, then where
        now, by_id, device, False, value, event_id, Registration.Status.CONFIRMED,
        # the log line
        event_id, ticket_code[:255], Scan.Action.CHECKIN, Result.OK, by_id, now,
        db.prep(Scan._meta.get_field("nonce"), nonce), scanned_at, device,
        # the domain event
        "checkin.created", now, event_id, "registration", db.prep(DomainEvent._meta.get_field("data"), data),
    ]  # fmt: skip
    try:
        # Inside a transaction (a caller's, a test's), a savepoint keeps a
        # used nonce's error from aborting it.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            rows = db.fetch(_first_entry_sql(by_column), params)
    except IntegrityError as exc:
        if nonce is None or not _nonce_taken(exc):
            raise
        raise _NonceAlreadyUsed() from exc
    if not rows:
        return None
    audit.outbox_written()
    registration = _REGISTRATION.instance(rows[0][: len(_REGISTRATION)])
    registration.user = _ATTENDEE.instance(rows[0][len(_REGISTRATION) :])
    registration.event, registration.checked_in_by = event, by
    return _outcome(Result.OK, registration)


@cache
def _first_entry_sql(by: str) -> str:
    returning = ", ".join(db.quote(field.column) for field in _REGISTRATION.fields)
    scan_fields = ["ticket_code", "action", "result", "by", "created_at", "nonce", "scanned_at", "device"]
    event_fields = ["type", "occurred_at", "event_id", "object_type"]
    # Identifiers come from the models' metadata; values are always parameters.
    return f"""
        WITH r AS (
            UPDATE {db.table(Registration)}
            SET {db.column(Registration, "checked_in_at")} = %s, {db.column(Registration, "checked_in_by")} = %s,
                {db.column(Registration, "checked_in_device")} = %s, {db.column(Registration, "exited")} = %s
            WHERE {db.column(Registration, by)} = %s AND {db.column(Registration, "event")} = %s
                AND {db.column(Registration, "status")} = %s AND {db.column(Registration, "checked_in_at")} IS NULL
            RETURNING {returning}
        ), s AS (
            INSERT INTO {db.table(Scan)} ({db.columns(Scan, ["event", "registration", *scan_fields])})
            SELECT {db.typed(Scan, ["event"])}, r.{db.column(Registration, "id")}, {db.typed(Scan, scan_fields)} FROM r
        ), d AS (
            INSERT INTO {db.table(DomainEvent)} ({db.columns(DomainEvent, [*event_fields, "object_id", "data"])})
            SELECT {db.typed(DomainEvent, event_fields)}, CAST(r.{db.column(Registration, "id")} AS text),
                {db.typed(DomainEvent, ["data"])} FROM r
        )
        SELECT {_REGISTRATION.sql()}, {_ATTENDEE.sql()}
        FROM r INNER JOIN {db.table(User)} u ON u.{db.column(User, "id")} = r.{db.column(Registration, "user")}
    """  # noqa: S608


def _move(
    registration: Registration,
    *,
    direction: str,
    first_entry: bool,
    by: User | None,
    device: str,
    now: datetime,
) -> None:
    if first_entry:
        # The same instant as the scan's created_at: stats find the scan
        # that checked a registration in by this equality.
        _attribute_check_in(registration, by=by, device=device, now=now, exited=False)
    else:  # a re-entry or an exit
        registration.exited = direction == OUT
        db.update(Registration, registration.pk, exited=registration.exited)


def _overtaken_entry(registration: Registration, scanned_at: datetime) -> int | None:
    """The scan log row of ``registration``'s check-in if an entry made at
    ``scanned_at`` came before it, and it is the ticket's only ``ok`` (no
    exit or re-entry since, no undone check-in before): the id to overtake;
    else None. The check-in's time is the earlier of its ``scanned_at`` and
    when the server recorded it: no scan happens after the server has it,
    so a device clock running ahead cannot make an entry easy to overtake.
    Runs only for an offline entry of a ticket inside."""
    rows = list(
        Scan.objects.filter(registration_id=registration.pk, result=Result.OK).values_list(
            "pk", "action", "created_at", "scanned_at"
        )[:2]
    )
    if len(rows) != 1:
        return None
    pk, action, created_at, its_scanned_at = rows[0]
    if action != Scan.Action.CHECKIN or created_at != registration.checked_in_at:
        return None
    made = min(its_scanned_at, created_at) if its_scanned_at else created_at
    return int(pk) if scanned_at < made else None


def _take_over(
    registration: Registration, overtaken: int, *, by: User | None, device: str, now: datetime
) -> None:
    """The check-in becomes this scan's: its user and device, and the time
    the server records it (the arrivals count the ``ok`` scan whose time is
    the check-in's); the overtaken entry's log line says
    ``already_checked_in``. The ``checkin.created`` event already sent
    stands: the attendee was checked in, only by whom changes."""
    db.update(Scan, overtaken, result=Result.ALREADY_CHECKED_IN)
    _attribute_check_in(registration, by=by, device=device, now=now)


def _attribute_check_in(
    registration: Registration, *, by: User | None, device: str, now: datetime, **also: Any
) -> None:
    """The registration checked in at ``now`` by ``by`` with ``device`` (and
    the other columns in ``also``), on the instance and in the row."""
    registration.checked_in_at, registration.checked_in_by, registration.checked_in_device = now, by, device
    for name, value in also.items():
        setattr(registration, name, value)
    db.update(
        Registration,
        registration.pk,
        checked_in_at=now,
        checked_in_by_id=by.pk if by else None,
        checked_in_device=device,
        **also,
    )


@transaction.atomic
def checkin_undo(*, ticket_code: str, event: Event, by: User | None) -> ScanOutcome:
    """Clear a check-in (``undone``), or ``not_checked_in``, or a refusal.
    Locks the registration row; logged as a Scan like every scan."""
    registration = _locked_registration(_ticket_key(ticket_code), event)
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
        registration.checked_in_device, registration.exited = "", False
        db.update(
            Registration,
            registration.pk,
            checked_in_at=None,
            checked_in_by_id=None,
            checked_in_device="",
            exited=False,
        )
    _log(event, registration, ticket_code, Scan.Action.UNDO, result, by, now, None, None, "")
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
    device: str,
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
        device=device,
    )


def _replay(
    *,
    ticket_code: str,
    event: Event,
    by: User | None,
    nonce: UUID | None,
    scanned_at: datetime | None,
    direction: str,
    device: str,
) -> ScanOutcome:
    """The original scan's outcome, for a retry; only here, off the hot
    path, is the nonce's original request compared with this one."""
    original = Scan.objects.select_related(
        "registration__event", "registration__user", "registration__checked_in_by"
    ).get(by=by, nonce=nonce)
    action = Scan.Action.CHECKIN if direction == IN else Scan.Action.CHECKOUT
    if (
        original.ticket_code != ticket_code[:255]
        or original.event_id != event.pk
        or original.action != action
    ):
        _log_nonce_reused(ticket_code=ticket_code, event=event, by=by, scanned_at=scanned_at, device=device)
        raise NonceReusedError()
    return _outcome(original.result, original.registration)


@transaction.atomic
def _log_nonce_reused(
    *, ticket_code: str, event: Event, by: User | None, scanned_at: datetime | None, device: str
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
        device,
    )
