"""Every error under /api/v1/ has API.md's shape, with a stable code."""

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

    def test_integrity_error_race_is_409(self, api_client):
        assert_error(api_client.get("/api/v1/integrity"), 409, "conflict")

    def test_lock_timeout_is_409(self, api_client):
        assert_error(api_client.get("/api/v1/locked"), 409, "concurrent_update")

    def test_django_validation_error_from_a_service_is_400(self, api_client):
        assert_error(api_client.get("/api/v1/django-validation"), 400, "bad_title", attr="title")

    def test_django_ratelimit_exception_is_429(self, api_client):
        response = api_client.get("/api/v1/ratelimited")
        assert_error(response, 429, "rate_limited")
        assert int(response["Retry-After"]) > 0
