"""Who may do what with registrations (see eventmaster/rules.py): each rule
once, in both its forms; registrations/tests/test_rules.py holds them to the
same answers."""

from typing import Any

from django.db.models import Q

from eventmaster.roles import is_admin
from eventmaster.rules import Rule
from events.rules import (
    MANAGE_EVENT,
    RUN_DOOR,
    can_manage_event,
    can_run_event_door,
)

from .models import Registration


def _either(own: Q, other: Q | None) -> Q | None:
    return None if other is None else own | other


# --- see a registration: the attendee, and whoever runs the event's door ------


def _view_scope(user: Any, prefix: str) -> Q | None:
    if is_admin(user):
        return None
    if not user.is_authenticated:
        return Q(pk__in=[])
    return _either(Q(**{f"{prefix}user_id": user.pk}), RUN_DOOR.q(user, f"{prefix}event__"))


def can_see_registration(user: Any, registration: Registration) -> bool:
    if not user.is_authenticated:
        return False
    return registration.user_id == user.pk or can_run_event_door(user, registration.event)


VIEW_REGISTRATION = Rule(
    "registrations.view",
    "the attendee, the event's organizer, admins and the event's door staff",
    check=can_see_registration,
    scope=_view_scope,
)


# --- cancel it, fetch its ticket: the attendee, and whoever manages the event --


def _manage_scope(user: Any, prefix: str) -> Q | None:
    if is_admin(user):
        return None
    if not user.is_authenticated:
        return Q(pk__in=[])
    return _either(Q(**{f"{prefix}user_id": user.pk}), MANAGE_EVENT.q(user, f"{prefix}event__"))


def can_manage_registration(user: Any, registration: Registration) -> bool:
    if not user.is_authenticated:
        return False
    return registration.user_id == user.pk or can_manage_event(user, registration.event)


MANAGE_REGISTRATION = Rule(
    "registrations.manage",
    "the attendee, the event's organizer and admins",
    check=can_manage_registration,
    scope=_manage_scope,
)
