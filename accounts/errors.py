from rest_framework import status

from eventmaster.api.errors import DomainError


class EmailTakenError(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "email_taken"
    default_detail = "An account with this e-mail address already exists."


class InvalidCredentialsError(DomainError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "invalid_credentials"
    default_detail = "E-mail address or password is incorrect."
    auth_header = 'Bearer realm="api"'


class CannotDemoteSelfError(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "cannot_demote_self"
    default_detail = "You cannot remove your own admin role or deactivate yourself."


class UnknownRoleError(DomainError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "unknown_role"
    default_detail = "Unknown role."


class TokenNotValidError(DomainError):
    """Raised by the public token endpoints, which have no authenticator (DRF
    would turn its AuthenticationFailed into a 403 there)."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "token_not_valid"
    default_detail = "Token is invalid, expired or already used."
    auth_header = 'Bearer realm="api"'
