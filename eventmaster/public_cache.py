"""Anonymous reads served from a cache, with ETag / If-None-Match.

The public event list and event detail are the same for every anonymous
caller and the first thing a ticket drop hammers. ``serve`` keeps their
rendered JSON in the ``public`` cache (Redis when configured, else this
process's memory) under a key made of the page's path and query and the
current *generation* of each namespace it depends on. A service that
changes what such a page shows calls ``invalidate(namespace, ...)``: when
its transaction commits, the generations move on, so the next request
renders afresh. Entries also expire after PUBLIC_CACHE_SECONDS whatever
happens (another process's memory, a lost invalidation), so a seat count
is never older than that.

Every answer carries a strong ETag (a hash of the body); a request whose
``If-None-Match`` names it gets 304 without a body. ``Cache-Control:
public, max-age=PUBLIC_CACHE_MAX_AGE`` and ``Vary: Authorization`` let a
proxy or browser reuse it for a second, never for a signed-in caller.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers


def _generation_key(namespace: str) -> str:
    return f"gen:{namespace}"


def invalidate(*namespaces: str) -> None:
    """Move the namespaces' generations on when the current transaction
    commits (at once outside one)."""

    def bump() -> None:
        cache = caches["public"]
        for namespace in namespaces:
            key = _generation_key(namespace)
            cache.add(key, 0, timeout=None)
            try:
                cache.incr(key)
            except ValueError:  # evicted between add and incr
                cache.set(key, 1, timeout=None)

    transaction.on_commit(bump, robust=True)


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def serve(
    request: HttpRequest, *, namespaces: tuple[str, ...], render: Callable[[], bytes | None]
) -> HttpResponse | None:
    """The cached answer to this anonymous GET, rendering it with ``render``
    (JSON bytes, or None when the answer is not a 200 to cache: the caller
    then answers itself). None when caching is off."""
    seconds = settings.PUBLIC_CACHE_SECONDS
    if seconds <= 0:
        return None
    cache = caches["public"]
    generations = cache.get_many([_generation_key(namespace) for namespace in namespaces])
    page = hashlib.blake2b(request.get_full_path().encode(), digest_size=16).hexdigest()
    key = (
        "page:"
        + ":".join(f"{ns}.{generations.get(_generation_key(ns), 0)}" for ns in namespaces)
        + ":"
        + page
    )
    entry = cache.get(key)
    if entry is None:
        body = render()
        if body is None:
            return None
        entry = (etag_of(body), body)
        cache.set(key, entry, timeout=seconds)
    etag, body = entry
    return answer(request, etag, body)


def answer(request: HttpRequest, etag: str, body: bytes) -> HttpResponse:
    """200 with the body, or 304 when the client has it already."""
    known = _listed(request.headers.get("If-None-Match", ""))
    if "*" in known or etag in known:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={settings.PUBLIC_CACHE_MAX_AGE}"
    patch_vary_headers(response, ("Authorization",))
    return response


def _listed(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
