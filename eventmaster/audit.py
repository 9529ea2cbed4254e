"""Domain events and the audit trail.

Every service that changes something worth telling calls ``record()`` in
its own transaction, so the API, the admin and the commands all produce the
same records, and a rolled-back change produces none:

- a ``DomainEvent`` row (the outbox) for each of ``TYPES``, which what
  tells the world (webhooks) reads in order;
- an ``AuditEntry`` for each administrative one: who (user, role, and
  whether through the API, the admin or a command), what (the object, the
  action, the changed fields before and after), when, and the request id.
  An attendee's own registration and an ordinary door scan are not
  administrative (the scan log records scans).

The audit entries form a hash chain: each entry's ``hash`` is the SHA-256
of its content and of the previous entry's hash, so ``verify()`` (``manage.py
audit_verify``) finds the first entry that was altered, inserted or
removed. Appends are serialized (a transaction-level advisory lock on
PostgreSQL; SQLite runs one writer at a time), so the chain never forks;
door scans append nothing, so check-in never waits for it. The table is
append-only: database triggers refuse UPDATE and DELETE (``APPEND_ONLY_SQL``,
installed by migration 0002; on PostgreSQL TRUNCATE too).

Who acts is read from the context: the current request (set by
eventmaster.middleware.RequestLogMiddleware: ``admin`` under /admin/, else
``api``, the user Django or DRF authenticated), or ``acting()`` (management
commands, through ``AuditedCommand``); anything else is ``system``.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.core.management.base import BaseCommand
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.http import HttpRequest
from django.utils import timezone

from eventmaster import db
from eventmaster.roles import Role, user_roles

if TYPE_CHECKING:
    from .models import AuditEntry

# The models are imported where they are used: eventmaster.middleware
# imports this module, and the logging configuration imports that one
# before the apps are ready.

TYPES = frozenset(
    {
        "event.published",
        "event.updated",
        "event.cancelled",
        "event.deleted",
        "registration.created",
        "registration.cancelled",
        "registration.promoted",
        "checkin.created",
        "checkin.undone",
        "staff.added",
        "staff.removed",
        "role.granted",
        "role.revoked",
        "user.deactivated",
    }
)

API, ADMIN, COMMAND, SYSTEM = "api", "admin", "command", "system"
GENESIS = "0" * 64  # the prev_hash of the first entry

# The highest role names the actor's role in an entry.
_ROLE_ORDER = (Role.ADMIN, Role.ORGANIZER, Role.CHECKIN, Role.MEMBER)

# Any constant shared by every process: the key of the chain's advisory lock.
_CHAIN_LOCK = 0x61756469745F31  # "audit_1"


@dataclass(frozen=True)
class Actor:
    user_id: UUID | None
    label: str
    role: str
    via: str
    request_id: str = ""


_AFTER_COMMIT: list[Callable[[], None]] = []


def after_commit(func: Callable[[], None]) -> None:
    """Call ``func`` after each commit of a transaction that recorded domain
    events (apps register it from ``AppConfig.ready``: the webhooks'
    dispatch). It must be cheap: it runs after every sign-up and scan."""
    if func not in _AFTER_COMMIT:
        _AFTER_COMMIT.append(func)


def _recorded() -> None:
    for func in _AFTER_COMMIT:
        func()


_request: ContextVar[HttpRequest | None] = ContextVar("eventmaster_audit_request", default=None)
_acting: ContextVar[Actor | None] = ContextVar("eventmaster_audit_acting", default=None)


@contextmanager
def in_request(request: HttpRequest) -> Iterator[None]:
    """Records written while ``request`` is served name its user (read when
    they are written: DRF authenticates inside the view) and request id."""
    token = _request.set(request)
    try:
        yield
    finally:
        _request.reset(token)


@contextmanager
def acting(*, via: str, user: Any = None, label: str = "") -> Iterator[None]:
    """Records written inside name this actor (a command, a worker)."""
    token = _acting.set(_actor(user, via, label=label))
    try:
        yield
    finally:
        _acting.reset(token)


class AuditedCommand(BaseCommand):
    """A management command whose changes are audited as ``via: command``,
    by the operating-system account that ran it."""

    def execute(self, *args: Any, **options: Any) -> str | None:
        with acting(via=COMMAND, label=f"{getpass.getuser()} (manage.py {self._name()})"):
            return super().execute(*args, **options)

    def _name(self) -> str:
        return type(self).__module__.rsplit(".", 1)[-1]


def current_actor() -> Actor:
    explicit = _acting.get()
    if explicit is not None:
        return explicit
    request = _request.get()
    if request is None:
        return Actor(None, SYSTEM, "", SYSTEM)
    via = API if request.path.startswith("/api/") else ADMIN
    return _actor(getattr(request, "user", None), via, request_id=getattr(request, "request_id", ""))


def _actor(user: Any, via: str, *, label: str = "", request_id: str = "") -> Actor:
    if user is None or not getattr(user, "is_authenticated", False):
        return Actor(None, label or via, "", via, request_id)
    roles = user_roles(user)
    role = next((str(r) for r in _ROLE_ORDER if r in roles), "")
    return Actor(user.pk, label or user.email, role, via, request_id)


def record(
    type: str,
    *,
    object_type: str,
    object_id: Any,
    event_id: UUID | None = None,
    changes: dict[str, tuple[Any, Any]] | None = None,
    data: dict[str, Any] | None = None,
    attendee_id: UUID | None = None,
) -> None:
    """Write the domain event ``type`` about an object in the caller's
    transaction, and its audit entry when the action is administrative.

    ``changes`` are the fields it changed, ``{field: (before, after)}``;
    ``data`` what cannot be read later (a deleted object's last state);
    ``attendee_id`` the user whose registration it is (their own action on
    it is not administrative)."""
    record_many(
        type,
        object_type=object_type,
        objects=[(object_id, attendee_id)],
        event_id=event_id,
        changes=changes,
        data=data,
    )


def record_many(
    type: str,
    *,
    object_type: str,
    objects: Iterable[tuple[Any, UUID | None]],
    event_id: UUID | None = None,
    changes: dict[str, tuple[Any, Any]] | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """``record`` for many objects of one kind that one action changed alike
    (a promotion of many waitlisted registrations), each ``(object_id,
    attendee_id)``: the rows written in batches, the chain extended once.
    Returns how many."""
    from .models import DomainEvent

    if type not in TYPES:
        raise ValueError(f"unknown domain event type {type!r}")
    now = timezone.now()
    changes_json = _plain({field: list(pair) for field, pair in changes.items()}) if changes else {}
    data_json = _event_data(changes_json, data)
    actor = current_actor()
    objects = list(objects)
    # The services call this inside their transaction (the hot paths always):
    # no second atomic block then.
    in_transaction = connections[DEFAULT_DB_ALIAS].in_atomic_block
    with nullcontext() if in_transaction else transaction.atomic():
        if len(objects) == 1:  # the usual case, on hot paths: SQL text built once
            db.insert(
                DomainEvent,
                type=type,
                occurred_at=now,
                event_id=event_id,
                object_type=object_type,
                object_id=str(objects[0][0]),
                data=data_json,
            )
        else:
            DomainEvent.objects.bulk_create(
                [
                    DomainEvent(
                        type=type,
                        occurred_at=now,
                        event_id=event_id,
                        object_type=object_type,
                        object_id=str(object_id),
                        data=data_json,
                    )
                    for object_id, _ in objects
                ],
                batch_size=1000,
            )
        audited = [
            str(object_id) for object_id, attendee in objects if _administrative(type, actor, attendee)
        ]
        if audited:
            _append(
                at=now,
                action=type,
                actor=actor,
                object_type=object_type,
                object_ids=audited,
                event_id=event_id,
                changes=changes_json,
            )
        outbox_written()
    return len(objects)


def _event_data(changes_json: dict[str, Any], data: dict[str, Any] | None) -> dict[str, Any]:
    return {**(_plain(data) if data else {}), **({"changes": changes_json} if changes_json else {})}


def unaudited_event_data(
    type: str, *, attendee_id: UUID | None = None, changes: dict[str, tuple[Any, Any]] | None = None
) -> dict[str, Any] | None:
    """The ``data`` of the domain event ``record()`` would write for this
    action, for a hot path that writes the row in a statement of its own
    (``checkin.services``: a scan in one statement), then calls
    ``outbox_written()``; None when the action is administrative (it
    needs its audit entry: call ``record()``)."""
    if type not in TYPES:
        raise ValueError(f"unknown domain event type {type!r}")
    if _administrative(type, current_actor(), attendee_id):
        return None
    changes_json = _plain({field: list(pair) for field, pair in changes.items()}) if changes else {}
    return _event_data(changes_json, None)


def outbox_written() -> None:
    """A domain event row was written in the current transaction (or, in
    autocommit, just now): what reads the outbox (``after_commit``) runs
    after the commit."""
    if _AFTER_COMMIT:
        transaction.on_commit(_recorded, robust=True)


def _administrative(type: str, actor: Actor, attendee_id: UUID | None) -> bool:
    if actor.via in (ADMIN, COMMAND, SYSTEM):
        return True
    if type == "checkin.created":  # an ordinary scan: the scan log has it
        return False
    if attendee_id is not None and attendee_id == actor.user_id:  # their own registration
        return False
    # Through the API: what an organizer, door staff or an admin does; a
    # member's own actions (a cancel that promotes someone) are not.
    return actor.role not in ("", Role.MEMBER)


def _plain(value: dict[str, Any]) -> dict[str, Any]:
    """As JSON gives it back (datetimes and UUIDs as strings): the hash is
    computed on what the database returns."""
    plain: dict[str, Any] = json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    return plain


def _append(
    *,
    at: datetime,
    action: str,
    actor: Actor,
    object_type: str,
    object_ids: list[str],
    event_id: UUID | None,
    changes: dict[str, Any],
) -> None:
    from .models import AuditEntry

    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor == "postgresql":
        # Held until the transaction ends: the next append reads this head.
        db.fetch("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
    head = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, prev_hash = head if head else (0, GENESIS)
    entries = []
    for object_id in object_ids:
        seq += 1
        entry = AuditEntry(
            seq=seq,
            at=at,
            action=action,
            actor_id=actor.user_id,
            actor=actor.label,
            actor_role=actor.role,
            via=actor.via,
            object_type=object_type,
            object_id=object_id,
            event_id=event_id,
            changes=changes,
            request_id=actor.request_id,
            prev_hash=prev_hash,
        )
        entry.hash = prev_hash = entry_hash(entry)
        entries.append(entry)
    AuditEntry.objects.bulk_create(entries, batch_size=1000)


def entry_hash(entry: AuditEntry) -> str:
    """SHA-256 of the entry's content and its predecessor's hash, as
    canonical JSON (sorted keys, no spaces, UTC microsecond timestamps)."""
    content = {
        "seq": entry.seq,
        "at": entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "action": entry.action,
        "actor_id": str(entry.actor_id) if entry.actor_id else None,
        "actor": entry.actor,
        "actor_role": entry.actor_role,
        "via": entry.via,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "event_id": str(entry.event_id) if entry.event_id else None,
        "changes": entry.changes,
        "request_id": entry.request_id,
        "prev_hash": entry.prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Verdict:
    entries: int
    head_seq: int
    head_hash: str
    broken_at: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(*, expect_head: str | None = None) -> Verdict:
    """Walk the chain in order and name the first entry that breaks it: one
    whose content no longer matches its hash (altered), one that does not
    follow its predecessor (inserted, or its predecessor rewritten with a
    new hash), a gap in the numbering (removed). ``expect_head``: a head
    hash kept elsewhere, which must still be in the chain (else the tail
    was rewritten or cut)."""
    from .models import AuditEntry

    entries, expected_seq, prev_hash, head_seq = 0, 1, GENESIS, 0
    seen_expected = expect_head is None
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        if entry.seq != expected_seq:
            return Verdict(
                entries,
                head_seq,
                prev_hash,
                expected_seq,
                f"entries #{expected_seq} to #{entry.seq - 1} are missing (removed)"
                if entry.seq - 1 > expected_seq
                else f"entry #{expected_seq} is missing (removed)",
            )
        if entry_hash(entry) != entry.hash:
            return Verdict(
                entries,
                head_seq,
                prev_hash,
                entry.seq,
                f"entry #{entry.seq} does not match its hash (altered)",
            )
        if entry.prev_hash != prev_hash:
            return Verdict(
                entries,
                head_seq,
                prev_hash,
                entry.seq,
                f"entry #{entry.seq} does not follow entry #{entry.seq - 1} (inserted, or #{entry.seq - 1} rewritten)",
            )
        seen_expected = seen_expected or entry.hash == expect_head
        entries, expected_seq, prev_hash, head_seq = entries + 1, entry.seq + 1, entry.hash, entry.seq
    if not seen_expected:
        return Verdict(
            entries,
            head_seq,
            prev_hash,
            head_seq + 1,
            f"the kept head {expect_head} is not in the chain (its tail was rewritten or removed)",
        )
    return Verdict(entries, head_seq, prev_hash)


# --- Append-only, in the database ---------------------------------------------

_TABLE = '"eventmaster_auditentry"'
APPEND_ONLY_SQL: dict[str, tuple[list[str], list[str]]] = {
    # (install, remove); a refused statement is an integrity error on both.
    "postgresql": (
        [
            """
            CREATE FUNCTION eventmaster_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION USING ERRCODE = 'restrict_violation',
                    MESSAGE = 'audit entries are append-only: ' || TG_OP || ' refused';
            END $$
            """,
            f"""
            CREATE TRIGGER eventmaster_audit_append_only BEFORE UPDATE OR DELETE ON {_TABLE}
            FOR EACH ROW EXECUTE FUNCTION eventmaster_audit_append_only()
            """,
            f"""
            CREATE TRIGGER eventmaster_audit_no_truncate BEFORE TRUNCATE ON {_TABLE}
            FOR EACH STATEMENT EXECUTE FUNCTION eventmaster_audit_append_only()
            """,
        ],
        [
            f"DROP TRIGGER IF EXISTS eventmaster_audit_no_truncate ON {_TABLE}",
            f"DROP TRIGGER IF EXISTS eventmaster_audit_append_only ON {_TABLE}",
            "DROP FUNCTION IF EXISTS eventmaster_audit_append_only()",
        ],
    ),
    "sqlite": (
        [
            f"""
            CREATE TRIGGER eventmaster_audit_no_update BEFORE UPDATE ON {_TABLE}
            BEGIN SELECT RAISE(ABORT, 'audit entries are append-only: UPDATE refused'); END
            """,
            f"""
            CREATE TRIGGER eventmaster_audit_no_delete BEFORE DELETE ON {_TABLE}
            BEGIN SELECT RAISE(ABORT, 'audit entries are append-only: DELETE refused'); END
            """,
        ],
        [
            "DROP TRIGGER IF EXISTS eventmaster_audit_no_update",
            "DROP TRIGGER IF EXISTS eventmaster_audit_no_delete",
        ],
    ),
}


def append_only_statements(vendor: str, *, install: bool) -> list[str]:
    install_sql, remove_sql = APPEND_ONLY_SQL.get(vendor, ([], []))
    return install_sql if install else remove_sql
