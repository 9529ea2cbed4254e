"""/healthz, /readyz, request logging and X-Request-ID."""

import json
import logging
import socket
import time

import pytest
from django.db import OperationalError, connection
from django.test import Client

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthz_does_not_touch_the_database(client: Client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_ok(client: Client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


def test_readyz_503_when_the_database_does_not_answer(client: Client, monkeypatch):
    monkeypatch.setattr("eventmaster.api.views._database_answers", lambda: False)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "unavailable"}}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite: the worker's own connection is asked")
def test_readyz_on_sqlite_asks_the_connection(client: Client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise OperationalError("unable to open database file")

    monkeypatch.setattr("eventmaster.api.views.connection.cursor", broken_cursor)
    assert client.get("/readyz").status_code == 503


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL: a bounded probe connection")
def test_readyz_on_postgres_gives_up_within_two_seconds(client: Client, monkeypatch):
    # A server that accepts the connection and then never answers (a frozen
    # database): the probe's own connect timeout bounds the wait.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
        monkeypatch.setitem(connection.settings_dict, "PORT", silent.getsockname()[1])
        started = time.monotonic()
        response = client.get("/readyz")
        elapsed = time.monotonic() - started
    assert response.status_code == 503 and elapsed < 2.0


def test_readyz_reports_a_degraded_cache_but_stays_ready(client: Client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "eventmaster.cache.FallbackRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "degraded"}}


def test_health_probes_refuse_writes(client: Client):
    assert client.post("/healthz").status_code == 405


def test_request_id_is_echoed_or_made(client: Client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123").headers["X-Request-ID"] == "abc-123"
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32
    # Nothing unsafe goes back into a header or the log.
    assert client.get("/healthz", HTTP_X_REQUEST_ID="a b\tc").headers["X-Request-ID"] != "a b\tc"


def test_one_json_log_line_per_request_with_user(member_client, member, caplog):
    with caplog.at_level(logging.INFO, logger="eventmaster.request"):
        member_client.get("/api/v1/me", HTTP_X_REQUEST_ID="req-42")
    records = [r for r in caplog.records if r.name == "eventmaster.request"]
    assert len(records) == 1
    record = records[0]
    assert (record.method, record.path, record.status, record.request_id) == (
        "GET",
        "/api/v1/me",
        200,
        "req-42",
    )
    assert record.user_id == str(member.pk)
    assert record.duration_ms >= 0
    # The configured console handler writes it as one JSON object per line.
    (console,) = [h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler]
    line = console.formatter.format(record)
    assert "\n" not in line
    logged = json.loads(line)
    assert {"method", "path", "status", "duration_ms", "user_id", "request_id", "timestamp"} <= set(logged)


def test_docs_are_served_without_a_cdn(client: Client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html


def test_admin_without_slash_redirects(client: Client):
    response = client.get("/admin")
    assert response.status_code == 301 and response["Location"] == "/admin/"


def test_cors_allows_only_the_configured_spa_origin(client: Client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.org"]
    allowed = client.options(
        "/api/v1/me", HTTP_ORIGIN="https://app.example.org", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )
    assert allowed["Access-Control-Allow-Origin"] == "https://app.example.org"
    other = client.options(
        "/api/v1/me", HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )
    assert "Access-Control-Allow-Origin" not in other
