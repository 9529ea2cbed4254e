"""Every error under /api/v1/ has docs/api.md's shape, with a stable code."""

import logging

import pytest
from django.test import Client

from eventmaster.tests.utils import assert_error

pytestmark = pytest.mark.django_db


class TestGenericErrors:
    @pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
    def test_unknown_api_path_is_json_404(self, api_client, method):
        response = getattr(api_client, method)("/api/v1/no-such-thing")
        assert response["Content-Type"] == "application/json"
        assert_error(response, 404, "not_found")

    @pytest.mark.parametrize("path", ["/api/v1/me/", "/api/v1/auth/login/", "/api/v1/users/", "/api/v2/me"])
    def test_trailing_slash_and_unknown_version_are_404_not_500(self, member_client, path):
        assert_error(member_client.post(path, {}), 404, "not_found")
        assert_error(member_client.get(path), 404, "not_found")

    def test_405(self, api_client):
        assert_error(api_client.delete("/api/v1/auth/login"), 405, "method_not_allowed")

    def test_415_for_non_json_body(self, api_client):
        response = api_client.post(
            "/api/v1/auth/login", "email=a", content_type="application/x-www-form-urlencoded"
        )
        assert_error(response, 415, "unsupported_media_type")

    def test_parse_error_is_400(self, api_client):
        response = api_client.post("/api/v1/auth/login", "{not json", content_type="application/json")
        body = assert_error(response, 400, "parse_error")
        assert body["type"] == "client_error"

    @pytest.mark.parametrize("payload", ["[]", '"text"', "null", "42"])
    def test_non_object_json_body_is_400(self, api_client, payload):
        response = api_client.post("/api/v1/auth/login", payload, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["type"] == "validation_error"


@pytest.mark.urls("eventmaster.tests.urls_errors")
class TestHandlerMappings:
    def test_unhandled_exception_is_500_without_leaks(self, api_client):
        api_client.raise_request_exception = False
        response = api_client.get("/api/v1/boom")
        body = assert_error(response, 500, "error")
        assert body["type"] == "server_error"
        assert b"secret_table" not in response.content and b"Traceback" not in response.content

    def test_error_outside_drf_under_api_is_json_500(self):
        client = Client(raise_request_exception=False)
        response = client.get("/api/v1/plain")
        assert_error(response, 500, "error")
        assert b"password" not in response.content

    def test_an_unexpected_integrity_error_is_our_bug_a_500_logged_with_the_request_id(
        self, api_client, caplog
    ):
        # The services map the constraint races they expect to their codes;
        # any other IntegrityError must not pass for "please retry".
        api_client.raise_request_exception = False
        with caplog.at_level(logging.ERROR, logger="django.request"):
            response = api_client.get("/api/v1/integrity", HTTP_X_REQUEST_ID="req-integrity")
        assert_error(response, 500, "error")
        logged = [r for r in caplog.records if r.name == "django.request"]
        assert logged and logged[0].exc_info and logged[0].request_id == "req-integrity"

    def test_lock_timeout_is_409(self, api_client):
        response = api_client.get("/api/v1/locked")
        assert_error(response, 409, "concurrent_update")
        assert response["Retry-After"] == "1"

    @pytest.mark.parametrize("path", ["/api/v1/lock-timeout", "/api/v1/deadlock"])
    def test_postgres_lock_timeout_and_deadlock_are_409_with_retry_after(self, api_client, path):
        response = api_client.get(path)
        assert_error(response, 409, "concurrent_update")
        assert int(response["Retry-After"]) >= 1

    @pytest.mark.parametrize(
        "path",
        [
            "/api/v1/db-refused",
            "/api/v1/db-closed",
            "/api/v1/db-restarting",
            "/api/v1/db-shutdown",
            "/api/v1/statement-timeout",
            "/api/v1/sqlite-cannot-open",
        ],
    )
    def test_database_unavailable_is_503_with_retry_after(self, api_client, path):
        response = api_client.get(path)
        body = assert_error(response, 503, "service_unavailable")
        assert body["type"] == "server_error"
        assert int(response["Retry-After"]) >= 1

    @pytest.mark.parametrize("path", ["/api/v1/bad-sql", "/api/v1/sqlite-no-table"])
    def test_a_sql_error_of_ours_stays_a_500(self, api_client, path):
        api_client.raise_request_exception = False
        assert_error(api_client.get(path), 500, "error")

    def test_database_down_outside_drf_is_503_too(self):
        client = Client(raise_request_exception=False)
        response = client.get("/api/v1/plain-db-down")
        assert_error(response, 503, "service_unavailable")
        assert int(response["Retry-After"]) >= 1
        page = client.get("/plain-db-down")
        assert page.status_code == 503 and int(page["Retry-After"]) >= 1

    def test_django_validation_error_from_a_service_is_400(self, api_client):
        assert_error(api_client.get("/api/v1/django-validation"), 400, "bad_title", attr="title")

    def test_django_ratelimit_exception_is_429(self, api_client):
        response = api_client.get("/api/v1/ratelimited")
        assert_error(response, 429, "rate_limited")
        assert int(response["Retry-After"]) > 0
