"""The API plus a minimal Django view doing one indexed SELECT: the
baseline that makes the check-in benchmark's figures machine-independent."""

from django.http import JsonResponse
from django.urls import include, path

from registrations.models import Registration


def one_select(request):
    found = list(
        Registration.objects.filter(ticket_code=request.GET.get("code", "")).values_list("id", flat=True)[:1]
    )
    return JsonResponse({"id": str(found[0]) if found else None})


urlpatterns = [
    path("bench/select", one_select),
    path("", include("eventmaster.urls")),
]
