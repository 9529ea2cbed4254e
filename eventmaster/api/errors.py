"""The errors the API layer itself answers with (the domain's own are
``eventmaster.errors.DomainError`` and each app's ``errors.py``)."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException


class ConcurrentUpdateError(APIException):
    """A lock could not be taken in time (busy database): retry shortly."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "concurrent_update"
    default_detail = "The resource is busy with another request; please retry."
    # Read by the exception handler for the Retry-After header.
    wait = 1


class ServiceUnavailableError(APIException):
    """A dependency (the database) is down or too slow: retry after ``wait``
    seconds with the same request (docs/api.md, Conventions)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "service_unavailable"
    default_detail = "The service is temporarily unavailable; retry shortly."

    def __init__(self, wait: int = 1, detail: str | None = None):
        super().__init__(detail=detail)
        # Read by the exception handler for the Retry-After header.
        self.wait = max(int(wait), 1)


class RequestTooLargeError(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = "The request body is larger than the server accepts."


class RateLimitedError(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "rate_limited"
    default_detail = "Too many requests; retry later."

    def __init__(self, wait: int):
        super().__init__()
        # Read by the exception handler for the Retry-After header.
        self.wait = max(int(wait), 1)


def error_body(*, status_code: int, code: str, detail: str) -> dict[str, Any]:
    """The error shape for the few responses made outside DRF views."""
    error_type = "client_error" if status_code < 500 else "server_error"
    return {"type": error_type, "errors": [{"code": code, "detail": detail, "attr": None}]}
