"""A URLconf of views that fail in every way the exception handler maps."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError
from django.urls import include, path
from django_ratelimit.exceptions import Ratelimited
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


def failing_view(exc: Exception):
    class View(APIView):
        authentication_classes = ()
        permission_classes = (AllowAny,)

        def get(self, request):
            raise exc

        def post(self, request):
            return Response(request.data)

    return View.as_view()


class Locked(OperationalError):
    pass


def plain_django_view(request):
    raise RuntimeError("secret SQL: SELECT password FROM users")


urlpatterns = [
    path("api/v1/boom", failing_view(RuntimeError("SELECT * FROM secret_table"))),
    path("api/v1/integrity", failing_view(IntegrityError("duplicate key value violates unique"))),
    path("api/v1/locked", failing_view(OperationalError("database is locked"))),
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
