"""/healthz, /readyz, request logging and X-Request-ID."""

import json
import logging

import pytest
from django.db import OperationalError
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz_does_not_touch_the_database(client: Client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_ok(client: Client):
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_503_when_the_database_does_not_answer(client: Client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("eventmaster.api.views.connection.cursor", broken_cursor)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json() == {"status": "unavailable"}


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
