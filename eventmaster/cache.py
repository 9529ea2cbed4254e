"""Django's Redis cache, degrading to this process's memory when Redis fails.

The shared cache holds rate-limit counters (and nothing a request cannot
lose). When Redis is stopped, frozen or unreachable, a request must still be
served: each operation falls back to a per-process in-memory cache, a
warning is logged at most once a minute, and Redis is not tried again for
``RETRY_AFTER`` seconds, so a frozen server costs one socket timeout per
process per interval rather than one per request. While degraded, limits are
counted per process (looser by the number of processes, never off).
``/readyz`` reports the state (``healthy()``).

``OPTIONS`` of the cache go to redis-py's connection pool as usual; the
settings give short socket timeouts.
"""

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class FallbackRedisCache(RedisCache):
    RETRY_AFTER = 5.0  # seconds without trying Redis after a failure
    WARN_EVERY = 60.0  # seconds between two warnings

    def __init__(self, server, params):
        super().__init__(server, params)
        self._fallback = LocMemCache(f"fallback-{id(self)}", {"TIMEOUT": params.get("TIMEOUT", 300)})
        self._down_until = 0.0
        self._last_warning = -self.WARN_EVERY

    def _call(self, name: str, *args, **kwargs):
        if time.monotonic() >= self._down_until:
            try:
                return getattr(super(), name)(*args, **kwargs)
            except RedisError as exc:
                self._degrade(exc)
        return getattr(self._fallback, name)(*args, **kwargs)

    def _degrade(self, exc: Exception) -> None:
        now = time.monotonic()
        self._down_until = now + self.RETRY_AFTER
        if now - self._last_warning >= self.WARN_EVERY:
            self._last_warning = now
            logger.warning(
                "Redis cache unavailable, counting in this process for now: %s",
                exc,
                extra={"cache": "degraded"},
            )

    def healthy(self) -> bool:
        """Whether Redis answers a PING now (for /readyz)."""
        try:
            return bool(self._cache.get_client(write=False).ping())
        except RedisError:
            return False

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call("get", key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", keys, version)

    def clear(self):
        return self._call("clear")
