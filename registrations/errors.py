from http import HTTPStatus

from eventmaster.errors import DomainError


class EventFullError(DomainError):
    default_code = "event_full"
    default_detail = "This event is full."


class AlreadyRegisteredError(DomainError):
    default_code = "already_registered"
    default_detail = "You already hold a registration for this event."


class RegistrationClosedError(DomainError):
    default_code = "registration_closed"
    default_detail = "Registration is closed for this event (draft, cancelled or already started)."


class AlreadyCancelledError(DomainError):
    default_code = "already_cancelled"
    default_detail = "This registration is already cancelled."


class AlreadyCheckedInError(DomainError):
    default_code = "already_checked_in"
    default_detail = "A checked-in registration cannot be cancelled."


class TicketNotConfirmedError(DomainError):
    default_code = "ticket_not_confirmed"
    default_detail = "Only a confirmed registration has a ticket."


class IdempotencyKeyReusedError(DomainError):
    status_code = HTTPStatus.UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was already used for another request."
