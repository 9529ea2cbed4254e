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
from collections.abc import Iterable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class FallbackRedisCache(RedisCache):
    RETRY_AFTER = 5.0  # seconds without trying Redis after a failure
    WARN_EVERY = 60.0  # seconds between two warnings

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._fallback = LocMemCache(f"fallback-{id(self)}", {"TIMEOUT": params.get("TIMEOUT", 300)})
        self._down_until = 0.0
        self._last_warning = -self.WARN_EVERY

    # Any: the answer of whichever cache served the call, passed through.
    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
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

    def add(
        self, key: Any, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> Any:
        return self._call("add", key, value, timeout, version)

    def get(self, key: Any, default: Any | None = None, version: int | None = None) -> Any:
        return self._call("get", key, default, version)

    def set(
        self, key: Any, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> Any:
        return self._call("set", key, value, timeout, version)

    def touch(self, key: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> Any:
        return self._call("touch", key, timeout, version)

    def delete(self, key: Any, version: int | None = None) -> Any:
        return self._call("delete", key, version)

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> Any:
        return self._call("get_many", keys, version)

    def has_key(self, key: Any, version: int | None = None) -> Any:
        return self._call("has_key", key, version)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        return self._call("incr", key, delta, version)

    def set_many(
        self, data: dict[Any, Any], timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> Any:
        return self._call("set_many", data, timeout, version)

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> Any:
        return self._call("delete_many", keys, version)

    def clear(self) -> Any:
        return self._call("clear")
