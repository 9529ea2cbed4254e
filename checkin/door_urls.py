from django.urls import path

from . import door

urlpatterns = [
    path("", door.door_page, name="door"),
    path("sw.js", door.service_worker, name="door-service-worker"),
    path("manifest.webmanifest", door.manifest, name="door-manifest"),
]
