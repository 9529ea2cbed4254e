from rest_framework.permissions import BasePermission

from events.permissions import can_manage_event


class IsAttendeeOrEventManager(BasePermission):
    """The attendee, the event's organizer, or an admin (door staff may see a
    registration, but not cancel it or fetch its ticket)."""

    message = "Only the attendee, the event's organizer or an admin may do this."

    def has_object_permission(self, request, view, obj) -> bool:
        return obj.user_id == request.user.pk or can_manage_event(request.user, obj.event)
