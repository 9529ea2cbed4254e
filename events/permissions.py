"""The API's permission classes for events, from their rules (events/rules.py).

The rule functions are re-exported for the callers that decide on a loaded
event (serializers, commands)."""

from eventmaster.api.permissions import rule_permission

from .rules import (
    MANAGE_EVENT,
    RUN_DOOR,
    VISIBLE_TO_EVERYONE,
    can_manage_event,
    can_run_event_door,
    can_see_event,
    is_event_staff,
)

__all__ = [
    "VISIBLE_TO_EVERYONE",
    "IsEventDoorTeam",
    "IsEventManager",
    "can_manage_event",
    "can_run_event_door",
    "can_see_event",
    "is_event_staff",
]

IsEventManager = rule_permission(MANAGE_EVENT)
IsEventDoorTeam = rule_permission(RUN_DOOR)
