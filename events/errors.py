from http import HTTPStatus

from eventmaster.errors import DomainError


class InvalidStatusError(DomainError):
    default_code = "invalid_status"
    default_detail = "Only a draft event can be published."


class EventAlreadyCancelledError(DomainError):
    default_code = "already_cancelled"
    default_detail = "This event is already cancelled."


class EventHasRegistrationsError(DomainError):
    default_code = "event_has_registrations"
    default_detail = "This event has registrations and cannot be deleted; cancel it instead."


class CapacityBelowRegistrationsError(DomainError):
    default_code = "capacity_below_registrations"
    default_detail = "Capacity cannot be lower than the number of confirmed registrations."


class NotCheckinStaffError(DomainError):
    status_code = HTTPStatus.BAD_REQUEST
    default_code = "not_checkin_staff"
    default_detail = "This user is not door staff (not in the checkin group)."


# A webhook endpoint's event that does not exist, or that its organizer does
# not run: one answer for both, which tells nobody which events exist.
NO_EVENT_YOU_ORGANIZE = "No event you organize has this id."
