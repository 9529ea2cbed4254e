from http import HTTPStatus

from eventmaster.errors import DomainError


class EmailTakenError(DomainError):
    status_code = HTTPStatus.CONFLICT
    default_code = "email_taken"
    default_detail = "An account with this e-mail address already exists."


class InvalidCredentialsError(DomainError):
    status_code = HTTPStatus.UNAUTHORIZED
    default_code = "invalid_credentials"
    default_detail = "E-mail address or password is incorrect."


class CannotDemoteSelfError(DomainError):
    status_code = HTTPStatus.CONFLICT
    default_code = "cannot_demote_self"
    default_detail = "You cannot remove your own admin role or deactivate yourself."


class UnknownRoleError(DomainError):
    status_code = HTTPStatus.BAD_REQUEST
    default_code = "unknown_role"
    default_detail = "Unknown role."


class TokenNotValidError(DomainError):
    """Raised by the public token endpoints, which have no authenticator (DRF
    would turn its AuthenticationFailed into a 403 there)."""

    status_code = HTTPStatus.UNAUTHORIZED
    default_code = "token_not_valid"
    default_detail = "Token is invalid, expired or already used."
