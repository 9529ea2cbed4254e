"""Who may do what with registrations (see eventmaster/rules.py): each rule
once, in both its forms; events/tests/test_rules.py holds them to the
same answers."""

from typing import Any

from django.db.models import Q

from eventmaster.rules import Rule
from events.rules import MANAGE_EVENT, RUN_DOOR

from .models import Registration


def attendee_or(event_rule: Rule, name: str, description: str) -> Rule:
    """A rule on registrations: the attendee, or whoever ``event_rule``
    allows on the registration's event (both forms composed from the event
    rule's)."""

    def scope(user: Any, prefix: str) -> Q | None:
        if not user.is_authenticated:
            return Q(pk__in=[])
        through_event = event_rule.q(user, f"{prefix}event__")
        return None if through_event is None else Q(**{f"{prefix}user_id": user.pk}) | through_event

    def check(user: Any, registration: Registration) -> bool:
        if not user.is_authenticated:
            return False
        return registration.user_id == user.pk or event_rule.allows(user, registration.event)

    return Rule(name, description, check=check, scope=scope)


# See a registration: the attendee, and whoever runs the event's door.
VIEW_REGISTRATION = attendee_or(
    RUN_DOOR, "registrations.view", "the attendee, the event's organizer, admins and the event's door staff"
)
# Cancel it, fetch its ticket: the attendee, and whoever manages the event.
MANAGE_REGISTRATION = attendee_or(
    MANAGE_EVENT, "registrations.manage", "the attendee, the event's organizer and admins"
)
