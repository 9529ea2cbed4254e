"""Rate limits on django-ratelimit's shared counters, answered as 429.

The counters live in the ``default`` cache: Redis when ``REDIS_URL`` is set,
else Django's database cache, so every server process shares them.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from .errors import RateLimitedError


def client_ip(request: HttpRequest) -> str:
    """The client address, trusting ``TRUSTED_PROXY_COUNT`` proxies.

    Each trusted proxy appends the address it received the request from to
    ``X-Forwarded-For``, so with N proxies the real client is the N-th entry
    from the right; anything left of it is client-supplied and not trusted.
    """
    remote = request.META.get("REMOTE_ADDR") or "0.0.0.0"  # noqa: S104 - a key, not a bind address
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if len(hops) < count:
        return remote
    candidate = hops[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def enforce_rate_limit(request: HttpRequest, *, group: str, key: str, rate: str) -> None:
    """Count this request against ``group`` and raise 429 past ``rate``.

    ``key`` is ``"ip"`` or a value (e.g. a normalized e-mail address).
    """
    key_fn = key if key == "ip" else (lambda _group, _request: key)
    usage = get_usage(request, group=group, key=key_fn, rate=rate, increment=True)
    if usage is not None and usage["should_limit"]:
        raise RateLimitedError(wait=usage["time_left"])
