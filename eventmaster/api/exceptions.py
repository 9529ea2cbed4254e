"""One exception handler for the whole API (drf-standardized-errors' shape).

Adds to the package's defaults the conversions this stack needs:
- Django ``ValidationError`` (raised by services) -> 400 with its codes;
- ``IntegrityError`` from a constraint race -> 409 ``conflict``;
- a lock or serialization failure -> 409 ``concurrent_update``;
- django-ratelimit's ``Ratelimited`` (a PermissionDenied) -> 429;
- simplejwt's dict details -> one error item with a stable code.
"""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, OperationalError
from django_ratelimit.exceptions import Ratelimited
from drf_standardized_errors.handler import ExceptionHandler as BaseHandler
from rest_framework import exceptions
from rest_framework.serializers import as_serializer_error

from .errors import ConcurrentUpdateError, ConflictError, RateLimitedError

logger = logging.getLogger(__name__)

# PostgreSQL SQLSTATEs for lock_not_available, serialization_failure,
# deadlock_detected; SQLite says "database is locked".
_RETRYABLE_SQLSTATES = {"55P03", "40001", "40P01"}


def is_retryable_db_error(exc: Exception) -> bool:
    cause = getattr(exc, "__cause__", None)
    if getattr(cause, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(exc)


class ExceptionHandler(BaseHandler):
    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, Ratelimited):
            return RateLimitedError(wait=60)
        if isinstance(exc, DjangoValidationError):
            return exceptions.ValidationError(as_serializer_error(exc))
        if isinstance(exc, IntegrityError):
            logger.warning("integrity error mapped to 409: %s", exc)
            return ConflictError()
        if isinstance(exc, OperationalError) and is_retryable_db_error(exc):
            logger.warning("lock failure mapped to 409: %s", exc)
            return ConcurrentUpdateError()
        if isinstance(exc, exceptions.AuthenticationFailed) and isinstance(exc.detail, dict):
            return _normalize_token_error(exc)
        return super().convert_known_exceptions(exc)


def _normalize_token_error(exc: exceptions.AuthenticationFailed) -> exceptions.APIException:
    """simplejwt puts a dict (detail, code, messages) in ``detail``; the error
    shape wants one item with a stable code."""
    detail = exc.detail
    code = str(detail.get("code") or "token_not_valid")
    message = detail.get("detail") or "Token is invalid or expired."
    converted = exceptions.AuthenticationFailed(detail=str(message), code=code)
    converted.status_code = exc.status_code
    converted.auth_header = getattr(exc, "auth_header", None)
    return converted
