"""Who may do what with events: each rule once, in both its forms (the rows
a user may act on, for the selectors; the answer for one loaded event, for
permission checks). eventmaster/rules.py explains the idea;
events/tests/test_rules.py holds the two forms to the same answers and the
rules to the contract's roles table."""

from typing import Any

from django.db.models import Exists, OuterRef, Q

from eventmaster.roles import Role, has_role, is_admin
from eventmaster.rules import Rule, caller_rule

from .models import Event

# Published and cancelled events are readable by id by anyone.
VISIBLE_TO_EVERYONE = frozenset({Event.Status.PUBLISHED, Event.Status.CANCELLED})


def _staffed(user: Any, prefix: str) -> Q:
    through = Event.staff.through.objects.filter(event_id=OuterRef(f"{prefix}pk"), user_id=user.pk)
    return Q(Exists(through))


def is_event_staff(user: Any, event: Event) -> bool:
    """Door staff assigned to the event, while they hold the check-in role
    (read with the event by events.selectors.event_get_for_door, else one
    query)."""
    if not (user.is_authenticated and has_role(user, Role.CHECKIN)):
        return False
    known = getattr(event, "door_staff_for", None)
    if known is not None and known[0] == user.pk:
        return bool(known[1])
    return Event.staff.through.objects.filter(event_id=event.pk, user_id=user.pk).exists()


# --- view: may know the event exists (else it is a 404) ---------------------


def _view_scope(user: Any, prefix: str) -> Q | None:
    if is_admin(user):
        return None
    visible = Q(**{f"{prefix}status__in": VISIBLE_TO_EVERYONE})
    if user.is_authenticated:
        visible |= Q(**{f"{prefix}organizer_id": user.pk})
        if has_role(user, Role.CHECKIN):
            visible |= _staffed(user, prefix)
    return visible


def can_see_event(user: Any, event: Event) -> bool:
    if event.status in VISIBLE_TO_EVERYONE or is_admin(user):
        return True
    if not user.is_authenticated:
        return False
    return event.organizer_id == user.pk or is_event_staff(user, event)


VIEW_EVENT = Rule(
    "events.view",
    "published and cancelled events: anyone; drafts: their organizer, admins, assigned door staff",
    check=can_see_event,
    scope=_view_scope,
    anonymous=True,
)


# --- manage: edit, publish, cancel, delete, staff, export -----------------------


def _manage_scope(user: Any, prefix: str) -> Q | None:
    if is_admin(user):
        return None
    if user.is_authenticated and has_role(user, Role.ORGANIZER):
        return Q(**{f"{prefix}organizer_id": user.pk})
    return Q(pk__in=[])


def can_manage_event(user: Any, event: Event) -> bool:
    if not user.is_authenticated:
        return False
    return is_admin(user) or (event.organizer_id == user.pk and has_role(user, Role.ORGANIZER))


MANAGE_EVENT = Rule(
    "events.manage",
    "its organizer (holding the organizer role) and admins",
    check=can_manage_event,
    scope=_manage_scope,
)


# --- run the door: check in, undo, attendees, door stats -------------------------


def _door_scope(user: Any, prefix: str) -> Q | None:
    if is_admin(user):
        return None
    rows = Q(pk__in=[])
    if user.is_authenticated and has_role(user, Role.ORGANIZER):
        rows |= Q(**{f"{prefix}organizer_id": user.pk})
    if user.is_authenticated and has_role(user, Role.CHECKIN):
        rows |= _staffed(user, prefix)
    return rows


def can_run_event_door(user: Any, event: Event) -> bool:
    return can_manage_event(user, event) or is_event_staff(user, event)


RUN_DOOR = Rule(
    "events.run_door",
    "its organizer, admins, and its assigned door staff (holding the check-in role)",
    check=can_run_event_door,
    scope=_door_scope,
)


# --- about the caller alone ------------------------------------------------------

CREATE_EVENT = caller_rule(
    "events.create", "organizers and admins", lambda user, _: has_role(user, Role.ORGANIZER, Role.ADMIN)
)
HAS_DOORS = caller_rule(
    "events.has_doors",
    "organizers, admins and door staff (who may have events to run)",
    lambda user, _: has_role(user, Role.ORGANIZER, Role.ADMIN, Role.CHECKIN),
)


# --- the audit trail: an event's entries ------------------------------------------


def _audit_scope(user: Any, prefix: str) -> Q | None:
    """Audit entries (eventmaster.AuditEntry, whose event is a plain id):
    admins all, organizers those of their own events."""
    if is_admin(user):
        return None
    if not (user.is_authenticated and has_role(user, Role.ORGANIZER)):
        return Q(pk__in=[])
    own = Event.objects.filter(organizer_id=user.pk).values("pk")
    return Q(**{f"{prefix}event_id__in": own})


def can_read_audit(user: Any, entry: Any) -> bool:
    if is_admin(user):
        return True
    if entry.event_id is None or not (user.is_authenticated and has_role(user, Role.ORGANIZER)):
        return False
    return Event.objects.filter(pk=entry.event_id, organizer_id=user.pk).exists()


VIEW_AUDIT = Rule(
    "events.audit",
    "admins: every entry; organizers: the entries of their own events",
    check=can_read_audit,
    scope=_audit_scope,
)


# --- webhooks: an organizer's endpoints -----------------------------------------------


def _webhook_scope(user: Any, prefix: str) -> Q | None:
    if is_admin(user):
        return None
    if not (user.is_authenticated and has_role(user, Role.ORGANIZER)):
        return Q(pk__in=[])
    return Q(**{f"{prefix}organizer_id": user.pk})


def can_manage_webhook(user: Any, endpoint: Any) -> bool:
    if is_admin(user):
        return True
    return bool(user.is_authenticated and has_role(user, Role.ORGANIZER) and endpoint.organizer_id == user.pk)


MANAGE_WEBHOOK = Rule(
    "events.webhooks",
    "its organizer (holding the organizer role) and admins",
    check=can_manage_webhook,
    scope=_webhook_scope,
)
