"""Who may do what with one event (docs/api.md, Events)."""

from rest_framework.permissions import BasePermission

from eventmaster.roles import Role, has_role, is_admin

from .models import Event

# Published and cancelled events are readable by id by anyone (docs/api.md).
VISIBLE_TO_EVERYONE = frozenset({Event.Status.PUBLISHED, Event.Status.CANCELLED})


def can_manage_event(user, event) -> bool:
    """The event's organizer (still holding the role) or an admin."""
    if not user.is_authenticated:
        return False
    return is_admin(user) or (event.organizer_id == user.pk and has_role(user, Role.ORGANIZER))


def is_event_staff(user, event) -> bool:
    """Door staff assigned to the event (read with the event by
    events.selectors.event_get_for_door, else one query)."""
    if not (user.is_authenticated and has_role(user, Role.CHECKIN)):
        return False
    known = getattr(event, "door_staff_for", None)
    if known is not None and known[0] == user.pk:
        return known[1]
    return event.staff.through.objects.filter(event_id=event.pk, user_id=user.pk).exists()


def can_see_event(user, event) -> bool:
    """May ``user`` know that ``event`` exists: the rule of
    events.selectors._visible_to, decided on a row already fetched (the door
    scan's, from event_get_for_door, needs no query). Keep the two in step;
    events/tests/test_visibility.py holds them to the same answers."""
    if event.status in VISIBLE_TO_EVERYONE or is_admin(user):
        return True
    if not user.is_authenticated:
        return False
    return event.organizer_id == user.pk or is_event_staff(user, event)


def can_run_event_door(user, event) -> bool:
    """Organizer, admin or assigned staff: see attendees, check in."""
    return can_manage_event(user, event) or is_event_staff(user, event)


class IsEventManager(BasePermission):
    message = "Only the event's organizer or an admin may do this."

    def has_object_permission(self, request, view, obj) -> bool:
        return can_manage_event(request.user, obj)


class IsEventDoorTeam(BasePermission):
    message = "Only the event's organizer, an admin or its door staff may do this."

    def has_object_permission(self, request, view, obj) -> bool:
        return can_run_event_door(request.user, obj)
