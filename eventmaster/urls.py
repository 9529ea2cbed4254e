from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from eventmaster.api import views as api_views
from eventmaster.metrics import metrics_view

api_v1: list[URLPattern | URLResolver] = [
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    # The door first: Django tries patterns in order, and a scan is the
    # request that must answer fastest (the others are paths it cannot match).
    path("", include("checkin.urls")),
    path("", include("accounts.urls")),
    path("", include("events.urls")),
    path("", include("registrations.urls")),
]

urlpatterns = [
    path("healthz", api_views.healthz, name="healthz"),
    path("readyz", api_views.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin", RedirectView.as_view(url="/admin/", permanent=True)),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    # The door scanner, a web app for phones (checkin/door.py).
    path("door", RedirectView.as_view(url="/door/", permanent=True)),
    path("door/", include("checkin.door_urls")),
    # Any other path under /api/ is a JSON 404, whatever the method.
    re_path(r"^api/", api_views.api_not_found),
]

handler404 = "eventmaster.api.views.handler404"
handler500 = "eventmaster.api.views.handler500"
