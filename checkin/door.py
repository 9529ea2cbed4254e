"""The door page: ``/door/``, a scanner for phones and tablets.

One static page (``checkin/templates/checkin/door.html`` and
``checkin/static/door/``) that talks to the API with the volunteer's JWT,
like any other client. It is an installable web app: its service worker
(``/door/sw.js``, so that it controls ``/door/``) keeps the page and its
scripts, and the page keeps the door bundle and the scans made offline in
IndexedDB (docs/door.md). Nothing here reads the database: the page is the
same for everyone, so the service worker can keep it.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_safe

# What the service worker keeps for offline use, besides the page itself.
ASSETS = (
    "door/door.js",
    "door/door.css",
    "door/icon.svg",
    "door/vendor/jsQR.js",
    "door/vendor/noble-ed25519.js",
)

# The page runs only its own files; the camera is for this page only.
_CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)


@lru_cache(maxsize=1)
def release() -> str:
    """A digest of the page's templates and files: a new one makes browsers
    install the new service worker, which replaces what it kept."""
    templates = [get_template(name).template for name in ("checkin/door.html", "checkin/door-sw.js")]  # type: ignore[attr-defined]
    paths = [template.origin.name for template in templates]
    paths += [str(finders.find(name)) for name in ASSETS]
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as file:
            digest.update(file.read())
    return digest.hexdigest()[:16]


def _revalidated(response: HttpResponse) -> HttpResponse:
    # Asked for again every time online; offline, the service worker answers.
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def door_page(request: HttpRequest) -> HttpResponse:
    response = render(
        request,
        "checkin/door.html",
        {
            "api": "/api/v1/",
            "service_worker": reverse("door-service-worker"),
            "manifest": reverse("door-manifest"),
            "noble": static("door/vendor/noble-ed25519.js"),
            "release": release(),
        },
    )
    response["Content-Security-Policy"] = _CSP
    response["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=()"
    return _revalidated(response)


@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    response = render(
        request,
        "checkin/door-sw.js",
        {
            "release": release(),
            # The page first: the worker answers navigations with it.
            "urls_json": json.dumps(
                [reverse("door"), reverse("door-manifest"), *(static(name) for name in ASSETS)]
            ),
        },
        content_type="text/javascript; charset=utf-8",
    )
    return _revalidated(response)


@require_safe
def manifest(request: HttpRequest) -> HttpResponse:
    door = reverse("door")
    response = JsonResponse(
        {
            "name": "EventMaster door",
            "short_name": "Door",
            "description": "Scan tickets at the door, with or without the network.",
            "id": door,
            "start_url": door,
            "scope": door,
            "display": "standalone",
            "orientation": "portrait",
            "background_color": "#111827",
            "theme_color": "#111827",
            "icons": [
                {"src": static("door/icon.svg"), "sizes": "any", "type": "image/svg+xml", "purpose": "any"}
            ],
        },
        content_type="application/manifest+json",
    )
    return _revalidated(response)
