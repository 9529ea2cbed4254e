"""Operational endpoints and the JSON fallbacks for paths under /api/."""

from __future__ import annotations

import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import psycopg
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from eventmaster.dberrors import db_fault

from .errors import ServiceUnavailableError, error_body

logger = logging.getLogger(__name__)

# /readyz answers within 2 s whatever the database does: the probe runs in
# a thread of its own and is given up after this long (libpq's connect
# timeout cannot be under 2 s). A probe given up still ends by itself, by
# its connect and statement timeouts.
READY_TIMEOUT_SECONDS = 1.5
_probes = ThreadPoolExecutor(max_workers=2, thread_name_prefix="readyz")


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers; the database is not touched."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database answers a query (else 503). The shared cache,
    when Redis is configured, is reported but does not fail readiness: the
    rate limits degrade to per-process counting while it is down."""
    checks = {"database": "ok" if _database_answers() else "unavailable"}
    healthy = getattr(cache, "healthy", None)
    if healthy is not None:
        checks["cache"] = "ok" if healthy() else "degraded"
    if checks["database"] != "ok":
        return JsonResponse({"status": "unavailable", "checks": checks}, status=503)
    return JsonResponse({"status": "ok", "checks": checks})


def _database_answers() -> bool:
    if connection.vendor != "postgresql":
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError:
            return False
        return True
    # A connection of its own, bounded in time: the worker's persistent one
    # could be waiting on a server that stopped answering.
    params = connection.get_connection_params()
    params["connect_timeout"] = 2
    params["options"] = f"{params.get('options', '')} -c statement_timeout=1500"
    try:
        return _probes.submit(_probe_postgres, params).result(timeout=READY_TIMEOUT_SECONDS)
    except FutureTimeout:
        return False


def _probe_postgres(params: dict[str, Any]) -> bool:
    try:
        with psycopg.connect(**params) as probe:
            probe.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


@csrf_exempt
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any unknown path under /api/ (any method) gets the JSON 404."""
    return JsonResponse(error_body(status_code=404, code="not_found", detail="Not found."), status=404)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    """Errors outside DRF's views (middleware, the admin, plain views). The
    database being down is no bug of ours: 503 with Retry-After."""
    # Django calls handler500 while handling the exception: sys.exception() is set.
    if db_fault(sys.exception()) is not None:  # type: ignore[arg-type]
        return _unavailable(request)
    if _is_api(request):
        return JsonResponse(
            error_body(status_code=500, code="error", detail="Server Error (500)."), status=500
        )
    return defaults.server_error(request)


def _unavailable(request: HttpRequest) -> HttpResponse:
    error = ServiceUnavailableError()
    response: HttpResponse
    if _is_api(request):
        response = JsonResponse(
            error_body(status_code=503, code=error.default_code, detail=str(error.detail)), status=503
        )
    else:
        response = HttpResponse(
            "Service temporarily unavailable; retry shortly.", status=503, content_type="text/plain"
        )
    response["Retry-After"] = str(error.wait)
    return response
