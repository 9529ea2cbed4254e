"""DRF permission classes for the roles of docs/api.md."""

from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from eventmaster.roles import Role, has_role


class HasRole(BasePermission):
    """Authenticated and holding one of ``roles`` (401 without a token,
    403 with a token but without the role)."""

    roles: tuple[str, ...] = ()
    message = "Your role does not allow this action."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_authenticated) and has_role(request.user, *self.roles)


class IsAdmin(HasRole):
    roles = (Role.ADMIN,)


class IsOrganizer(HasRole):
    roles = (Role.ORGANIZER, Role.ADMIN)


class IsDoorRole(HasRole):
    """May have events to run: organizers, admins and door staff."""

    roles = (Role.ORGANIZER, Role.ADMIN, Role.CHECKIN)
