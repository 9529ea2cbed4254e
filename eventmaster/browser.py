"""Django's browser middleware, only where a browser is served.

Sessions, the session user and flash messages serve the admin's pages.
The API authenticates every request by its token and the probes need
nothing, so for them these three are pure cost (a fifth of a ``/healthz``).
Subclasses, not a wrapper, so Django's and the admin's system checks still
find them in MIDDLEWARE. (Not in eventmaster.middleware: the logging
configuration imports that module before the apps are ready.)
"""

from __future__ import annotations

from typing import cast

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.deprecation import MiddlewareMixin

_NOT_BROWSER = ("/api/", "/healthz", "/readyz", "/metrics")


def _for_browser(request: HttpRequest) -> bool:
    return not request.path_info.startswith(_NOT_BROWSER)


class _BrowserOnly(MiddlewareMixin):
    """The middleware's work for browser paths; a pass-through elsewhere."""

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        # Synchronous only (gunicorn's sync workers, runserver): no awaitable here.
        handler = super().__call__ if _for_browser(request) else self.get_response
        return cast(HttpResponseBase, handler(request))


class BrowserSessionMiddleware(_BrowserOnly, SessionMiddleware):
    pass


class BrowserAuthenticationMiddleware(_BrowserOnly, AuthenticationMiddleware):
    pass


class BrowserMessageMiddleware(_BrowserOnly, MessageMiddleware):
    pass
