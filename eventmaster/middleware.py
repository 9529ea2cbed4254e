"""Structured request logging: one JSON line per request.

Every response carries ``X-Request-ID``: the client's, when it sent a sane
one, else a new one, so a support ticket can be matched to a log line.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase

from eventmaster import audit
from eventmaster.api.errors import RequestTooLargeError, error_body

logger = logging.getLogger("eventmaster.request")

_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        incoming = request.headers.get("X-Request-ID", "")
        # An attribute of ours on the request (read by RequestIdLogFilter); HttpRequest does not declare it.
        request.request_id = incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex  # type: ignore[attr-defined]
        started = time.perf_counter()
        with audit.in_request(request):  # audit entries name this request's user and id
            response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": _user_id(request),
                "request_id": request.request_id,  # type: ignore[attr-defined]
            },
        )
        return response


def _user_id(request: HttpRequest) -> str | None:
    # API calls authenticate inside DRF (JWT) and leave the id here;
    # admin pages use the session user.
    user_id = getattr(request, "authenticated_user_id", None)
    if user_id is None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            user_id = user.pk
    return str(user_id) if user_id is not None else None


class RequestBodyLimitMiddleware:
    """A body declared larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is refused
    before anything reads it: 413 in the error shape under /api/ (Django's
    own check answers the rest with a 400)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return JsonResponse(
                    error_body(
                        status_code=413,
                        code=RequestTooLargeError.default_code,
                        detail=f"The request body is larger than the server accepts ({limit} bytes).",
                    ),
                    status=413,
                )
        return self.get_response(request)


class RequestIdLogFilter(logging.Filter):
    """Adds the request id to records logged with a ``request`` (Django's
    error log of a 500, for one), so a traceback matches its request line."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None and not hasattr(record, "request_id"):
            record.request_id = getattr(request, "request_id", None)
        return True
