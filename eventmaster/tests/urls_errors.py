"""A URLconf of views that fail in every way the exception handler maps."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, InterfaceError, OperationalError, ProgrammingError
from django.urls import include, path
from django_ratelimit.exceptions import Ratelimited
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from eventmaster.tests.utils import db_error


def failing_view(exc: Exception):
    class View(APIView):
        authentication_classes = ()
        permission_classes = (AllowAny,)

        def get(self, request):
            raise exc

        def post(self, request):
            return Response(request.data)

    return View.as_view()


def plain_django_view(request):
    raise RuntimeError("secret SQL: SELECT password FROM users")


def plain_view_database_down(request):
    raise db_error(None)


urlpatterns = [
    path("api/v1/boom", failing_view(RuntimeError("SELECT * FROM secret_table"))),
    path("api/v1/integrity", failing_view(IntegrityError("duplicate key value violates unique"))),
    path("api/v1/locked", failing_view(OperationalError("database is locked"))),
    path("api/v1/lock-timeout", failing_view(db_error("55P03"))),
    path("api/v1/deadlock", failing_view(db_error("40P01"))),
    path("api/v1/db-refused", failing_view(db_error(None))),
    path("api/v1/db-closed", failing_view(InterfaceError("connection already closed"))),
    path("api/v1/db-restarting", failing_view(db_error("57P03"))),
    path("api/v1/db-shutdown", failing_view(db_error("57P01"))),
    path("api/v1/statement-timeout", failing_view(db_error("57014"))),
    path("api/v1/bad-sql", failing_view(db_error("42601", ProgrammingError))),
    path("api/v1/plain-db-down", plain_view_database_down),
    path("api/v1/sqlite-cannot-open", failing_view(OperationalError("unable to open database file"))),
    path("api/v1/sqlite-no-table", failing_view(OperationalError("no such table: eventmaster_cache"))),
    path("plain-db-down", plain_view_database_down),
    path(
        "api/v1/django-validation",
        failing_view(ValidationError({"title": ValidationError("Bad.", code="bad_title")})),
    ),
    path("api/v1/ratelimited", failing_view(Ratelimited())),
    path("api/v1/plain", plain_django_view),
    path("", include("eventmaster.urls")),
]

handler404 = "eventmaster.api.views.handler404"
handler500 = "eventmaster.api.views.handler500"
