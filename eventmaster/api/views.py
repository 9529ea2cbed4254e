"""Operational endpoints and the JSON fallbacks for paths under /api/."""

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from .errors import error_body


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers; the database is not touched."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database answers a query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


@csrf_exempt
def api_not_found(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Any unknown path under /api/ (any method) gets the JSON 404."""
    return JsonResponse(error_body(status_code=404, code="not_found", detail="Not found."), status=404)


def handler404(request: HttpRequest, exception=None):
    if _is_api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest):
    if _is_api(request):
        return JsonResponse(
            error_body(status_code=500, code="error", detail="Server Error (500)."), status=500
        )
    return defaults.server_error(request)
