"""Client bodies the API must survive: too large (413), absurdly nested
(400 parse_error), on every endpoint that reads a body, never a 500."""

import pytest

from eventmaster.tests.utils import assert_error

pytestmark = pytest.mark.django_db


def body_endpoints(event, member, registration):
    """(method, path) of every operation that reads a JSON body."""
    return [
        ("post", "/api/v1/auth/register"),
        ("post", "/api/v1/auth/login"),
        ("post", "/api/v1/auth/refresh"),
        ("post", "/api/v1/auth/logout"),
        ("patch", "/api/v1/me"),
        ("post", "/api/v1/me/password"),
        ("patch", f"/api/v1/users/{member.pk}"),
        ("post", "/api/v1/events"),
        ("patch", f"/api/v1/events/{event.pk}"),
        ("post", f"/api/v1/events/{event.pk}/staff"),
        ("post", "/api/v1/checkin"),
        ("post", "/api/v1/checkin/undo"),
    ]


@pytest.fixture
def endpoints(event, member, registration):
    return body_endpoints(event, member, registration)


def test_a_body_over_the_limit_is_413_everywhere(admin_client, endpoints, settings):
    too_big = '{"title": "' + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + '"}'
    for method, path in endpoints:
        response = getattr(admin_client, method)(path, too_big, content_type="application/json")
        body = assert_error(response, 413, "request_too_large")
        assert body["type"] == "client_error", (method, path)


def test_three_megabytes_of_json_is_413_not_500(api_client):
    response = api_client.post(
        "/api/v1/auth/register", '{"email": "' + "a" * 3_000_000 + '"}', content_type="application/json"
    )
    assert_error(response, 413, "request_too_large")


@pytest.mark.parametrize("depth", [100_000, 5_000])
def test_absurdly_nested_json_is_400_parse_error_everywhere(admin_client, endpoints, depth):
    nested = "[" * depth + "]" * depth
    for method, path in endpoints:
        response = getattr(admin_client, method)(path, nested, content_type="application/json")
        assert_error(response, 400, "parse_error")


def test_a_body_just_under_the_limit_is_read(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = api_client.post(
        "/api/v1/auth/login", {"email": "a@example.org", "password": "x" * 9_000}, format="json"
    )
    # Read and validated: the field's own limit answers, not the body's.
    assert_error(response, 400, "max_length", attr="password")
