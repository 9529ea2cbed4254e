"""Reads of events: scoped to the caller, with their counts (columns of the
event row) shaped for the API."""

from functools import cache
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import User
from accounts.selectors import Along
from eventmaster import db
from eventmaster.models import AuditEntry
from eventmaster.roles import annotate_roles

from .models import Event, WebhookDelivery, WebhookEndpoint
from .rules import MANAGE_WEBHOOK, RUN_DOOR, VIEW_EVENT


def event_with_counts(queryset: QuerySet[Event]) -> QuerySet[Event]:
    """Events as the API shows them: with their organizer. The counts are
    the event row's counter columns (kept by registrations.services under
    the event row lock), read by the model's properties (registered_count,
    waitlist_count, available_slots, is_full): no annotation to build, the
    same in list and detail."""
    return queryset.select_related("organizer")


def event_list_public() -> QuerySet[Event]:
    """Published events, for anyone (the filters decide about past ones)."""
    return event_with_counts(Event.objects.filter(status=Event.Status.PUBLISHED)).order_by("start_at", "id")


def _visible_to(user: User | AnonymousUser) -> QuerySet[Event]:
    """What the caller may open by id (events.rules.VIEW_EVENT): anything
    else is a 404, as if it did not exist."""
    return VIEW_EVENT.filter(Event.objects.all(), user)


def event_list_visible(*, user: User | AnonymousUser) -> QuerySet[Event]:
    return event_with_counts(_visible_to(user)).order_by("start_at", "id")


def event_get_visible(*, user: User | AnonymousUser, pk: UUID | str) -> Event:
    """One event the caller may see, without counts (for nested resources);
    raises Http404 otherwise."""
    return get_object_or_404(_visible_to(user), pk=pk)


def event_list_managed(*, user: User | AnonymousUser) -> QuerySet[Event]:
    """Events the caller runs (events.rules.RUN_DOOR): admins all, organizers
    their own, door staff those they are assigned to (any status, past
    included)."""
    return event_with_counts(RUN_DOOR.filter(Event.objects.all(), user)).order_by("start_at", "id")


def event_get_locked(*, pk: UUID | str, visible_to: User | AnonymousUser | None = None) -> Event:
    """The event row under ``SELECT ... FOR NO KEY UPDATE``: every write that
    checks capacity or status holds it (call inside ``transaction.atomic``).
    Not ``FOR UPDATE``: that would also hold up, until this transaction
    ends, every other transaction's foreign-key check on the event (a scan's
    log line, anything else naming it); those take only
    ``FOR KEY SHARE``, which this lock lets through, while two writers of
    the event still take turns.
    Raises Event.DoesNotExist; with ``visible_to``, Http404 when there is no
    such event or that caller may not see it (events.rules.VIEW_EVENT,
    decided on the locked row: a sign-up reads its event once).

    Every sign-up and cancellation reads it, so it runs as SQL text built
    once (eventmaster.db). ``UNSAFE_DISABLE_CAPACITY_LOCK`` exists in the
    test settings only, for the control run that proves the concurrency
    tests can fail."""
    lock = not getattr(settings, "UNSAFE_DISABLE_CAPACITY_LOCK", False)
    rows = db.fetch(_event_locked_sql(connection.vendor, lock), [db.prep(Event._meta.pk, pk)])
    event = _EVENT.instance(rows[0]) if rows else None
    if visible_to is None:
        if event is None:
            raise Event.DoesNotExist("No event matches the given query.")
        return event
    if event is None or not VIEW_EVENT.allows(visible_to, event):
        raise Http404("No event matches the given query.")
    return event


@cache
def _event_locked_sql(vendor: str, lock: bool) -> str:
    # SQLite has no row locks: a write locks the whole database.
    suffix = " FOR NO KEY UPDATE OF e" if lock and vendor == "postgresql" else ""
    # Identifiers come from the models' metadata; the id is a parameter.
    return f"""
        SELECT {_EVENT.sql()} FROM {db.table(Event)} e WHERE e.{db.column(Event, "id")} = %s{suffix}
    """  # noqa: S608


def event_audit_list(*, event: Event) -> QuerySet[AuditEntry]:
    """The audit entries of one event, newest first (the caller checked
    that the user may read them: events.rules.VIEW_AUDIT)."""
    return AuditEntry.objects.filter(event_id=event.pk).order_by("-seq")


def webhook_endpoint_list(*, user: User | AnonymousUser) -> QuerySet[WebhookEndpoint]:
    """The caller's webhook endpoints (admins: all; events.rules.MANAGE_WEBHOOK)."""
    return MANAGE_WEBHOOK.filter(WebhookEndpoint.objects.select_related("organizer"), user).order_by(
        "created_at", "id"
    )


def webhook_delivery_list(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """An endpoint's deliveries, newest first, with their attempts."""
    return endpoint.deliveries.order_by("-created_at", "id").prefetch_related("attempt_log")


def event_staff_list(*, event: Event) -> QuerySet[User]:
    return annotate_roles(event.staff.all()).order_by("email", "pk")


def event_get_for_door(*, user: User | AnonymousUser, pk: UUID | str) -> Event | None:
    """The event ``pk`` (None if there is none), carrying whether ``user`` is
    assigned to its door staff, for can_run_event_door: one query, whoever
    asks. The door scan calls this on every request, so it runs as SQL text
    built once (eventmaster.db) rather than an ORM query."""
    rows = db.fetch(
        _event_for_door_sql(connection.vendor),
        [db.prep(User._meta.pk, user.pk), db.prep(Event._meta.pk, pk)],
    )
    return _door_event(rows[0], user) if rows else None


def event_for_door_along(pk: UUID | str) -> Along:
    """``event_get_for_door`` for the user behind a token, read in the same
    statement as that user (accounts.selectors.user_get_for_auth): the door
    scan's two reads in one round trip. ``event_from_along`` gives the
    event afterwards."""
    columns, join = _door_along_sql()
    return Along(columns, join, params=[db.prep(Event._meta.pk, pk)], width=len(_EVENT) + 1)


@cache
def _door_along_sql() -> tuple[str, str]:
    # Identifiers come from the models' metadata; values are always parameters.
    columns = f"{_EVENT.sql()}, {_staff_exists_sql('u.' + db.column(User, 'id'))}"
    return columns, f"LEFT JOIN {db.table(Event)} e ON e.{db.column(Event, 'id')} = %s"


def event_from_along(along: Along, user: User | AnonymousUser) -> Event | None:
    """The event an ``event_for_door_along`` read found (None: no such event)."""
    row = along.row
    if row is None or row[_EVENT_ID] is None:
        return None
    return _door_event(row, user)


def _door_event(row: tuple[Any, ...], user: User | AnonymousUser) -> Event:
    event = _EVENT.instance(row[: len(_EVENT)])
    event.door_staff_for = (user.pk, bool(row[len(_EVENT)]))
    return event


_EVENT = db.Columns(Event, "e")
_EVENT_ID = _EVENT.attnames.index("id")


def _staff_exists_sql(user: str) -> str:
    """Whether ``user`` (an SQL expression) is on the door staff of ``e``."""
    staff = Event.staff.through
    # Identifiers come from the models' metadata.
    return f"""EXISTS(
            SELECT 1 FROM {db.table(staff)} s
            WHERE s.{db.column(staff, "event")} = e.{db.column(Event, "id")} AND s.{db.column(staff, "user")} = {user}
        )"""  # noqa: S608


@cache
def _event_for_door_sql(vendor: str) -> str:
    # Identifiers come from the models' metadata; values are always parameters.
    return f"""
        SELECT {_EVENT.sql()}, {_staff_exists_sql("%s")}
        FROM {db.table(Event)} e
        WHERE e.{db.column(Event, "id")} = %s
    """  # noqa: S608
