"""The API's permission classes for registrations, from their rules."""

from eventmaster.api.permissions import rule_permission

from .rules import MANAGE_REGISTRATION

IsAttendeeOrEventManager = rule_permission(MANAGE_REGISTRATION)
