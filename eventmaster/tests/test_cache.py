"""The shared cache (Redis) failing never fails a request: rate limits
count in the process meanwhile, a warning says so at most once a minute."""

import logging
import socket

import pytest
from django.core.cache import caches
from django.test import override_settings

from accounts.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def dead_redis_cache() -> dict:
    with socket.socket() as sock:  # a port nothing listens on: refused at once
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return {
        "default": {
            "BACKEND": "eventmaster.cache.FallbackRedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }


@pytest.fixture
def redis_down():
    with override_settings(CACHES=dead_redis_cache()):
        yield caches["default"]


def test_with_redis_down_logins_are_served_and_still_limited(api_client, member, redis_down, caplog):
    with caplog.at_level(logging.WARNING, logger="eventmaster.cache"):
        ok = api_client.post("/api/v1/auth/login", {"email": member.email, "password": DEFAULT_PASSWORD})
        assert ok.status_code == 200 and ok.json()["access"]
        for _ in range(4):
            wrong = {"email": member.email, "password": "wrong-password"}
            assert api_client.post("/api/v1/auth/login", wrong).status_code == 401
        # Counted in this process meanwhile: the sixth is refused.
        sixth = api_client.post("/api/v1/auth/login", {"email": member.email, "password": DEFAULT_PASSWORD})
    assert sixth.status_code == 429
    warnings = [r for r in caplog.records if r.name == "eventmaster.cache"]
    assert len(warnings) == 1, "one warning, not one per request"


def test_sign_up_is_served_with_redis_down(api_client, redis_down):
    response = api_client.post(
        "/api/v1/auth/register",
        {"email": "new@example.org", "password": "a-long-Passphrase-9", "full_name": "New Person"},
    )
    assert response.status_code == 201


def test_a_failed_redis_is_not_asked_again_for_a_while(redis_down, monkeypatch):
    calls = []
    original = type(redis_down).__mro__[1].incr  # Django's RedisCache.incr

    def counting_incr(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(type(redis_down).__mro__[1], "incr", counting_incr)
    redis_down.add("k", 0)
    for _ in range(10):
        redis_down.incr("k")
    assert calls == []  # add failed, so the next operations went to the fallback
    assert redis_down.get("k") == 10
    assert redis_down.healthy() is False
