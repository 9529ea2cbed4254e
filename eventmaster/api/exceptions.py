"""One exception handler for the whole API (drf-standardized-errors' shape).

Adds to the package's defaults the conversions this stack needs:
- Django ``ValidationError`` (raised by services) -> 400 with its codes;
- the database unreachable, restarting or past ``statement_timeout``
  -> 503 ``service_unavailable`` with ``Retry-After`` (eventmaster.dberrors);
- a lock not granted in time, a deadlock or a serialization failure
  -> 409 ``concurrent_update`` with ``Retry-After``;
- a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` -> 413 ``request_too_large``;
- django-ratelimit's ``Ratelimited`` (a PermissionDenied) -> 429;
- simplejwt's dict details -> one error item with a stable code.

An ``IntegrityError`` is deliberately not mapped: the services catch the
constraint races they expect (one active registration per user and event,
one e-mail per account, one scan per nonce) and raise their domain errors.
Any other is our bug: a 500, logged with the request id.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django_ratelimit.exceptions import Ratelimited
from drf_standardized_errors.handler import ExceptionHandler as BaseHandler
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from eventmaster.dberrors import DbFault, db_fault
from eventmaster.errors import DomainError

from .errors import ConcurrentUpdateError, RateLimitedError, RequestTooLargeError, ServiceUnavailableError

logger = logging.getLogger(__name__)


def database_fault_error(exc: Exception) -> exceptions.APIException | None:
    """The API error for a database fault the client may retry, else None."""
    fault = db_fault(exc)
    if fault is DbFault.UNAVAILABLE:
        logger.warning("database unavailable, answered 503: %s", exc)
        return ServiceUnavailableError()
    if fault is DbFault.BUSY:
        logger.warning("lock failure, answered 409: %s", exc)
        return ConcurrentUpdateError()
    return None


class ExceptionHandler(BaseHandler):
    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, DomainError):
            return domain_error_to_api(exc)
        if isinstance(exc, Ratelimited):
            return RateLimitedError(wait=60)
        if isinstance(exc, RequestDataTooBig):
            return RequestTooLargeError()
        if isinstance(exc, DjangoValidationError):
            return exceptions.ValidationError(as_serializer_error(exc))
        converted = database_fault_error(exc)
        if converted is not None:
            return converted
        if isinstance(exc, exceptions.AuthenticationFailed) and isinstance(exc.detail, dict):
            return _normalize_token_error(exc)
        return super().convert_known_exceptions(exc)

    def report_exception(self, exc: exceptions.APIException, response: Response) -> None:
        # An outage is logged once per request as a warning (above), not
        # reported as a crash of ours with a traceback.
        if not isinstance(exc, ServiceUnavailableError):
            super().report_exception(exc, response)


def domain_error_to_api(exc: DomainError) -> exceptions.APIException:
    """A service's refusal as the API answers it: its status, code and text."""
    converted = exceptions.APIException(detail=exc.detail, code=exc.code)
    converted.status_code = int(exc.status_code)
    if converted.status_code == 401:
        converted.auth_header = 'Bearer realm="api"'  # type: ignore[attr-defined]  # read by DRF's handler (getattr); the stubs lack it
    return converted


def _normalize_token_error(exc: exceptions.AuthenticationFailed) -> exceptions.APIException:
    """simplejwt puts a dict (detail, code, messages) in ``detail``; the error
    shape wants one item with a stable code."""
    # The caller checked: simplejwt's detail is a dict.
    detail = cast(dict[str, Any], exc.detail)
    code = str(detail.get("code") or "token_not_valid")
    message = detail.get("detail") or "Token is invalid or expired."
    converted = exceptions.AuthenticationFailed(detail=str(message), code=code)
    converted.status_code = exc.status_code
    converted.auth_header = getattr(exc, "auth_header", None)  # type: ignore[attr-defined]  # as above
    return converted
