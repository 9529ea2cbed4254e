"""Helpers shared by every app's tests."""

from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken


def client_for(user) -> APIClient:
    """An API client sending ``user``'s access token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    client.user = user
    return client


def assert_error(response, status: int, code: str, attr: str | None = None) -> dict:
    """The response is an error of API.md's shape with ``code`` (and ``attr``)."""
    assert response.status_code == status, (response.status_code, getattr(response, "content", b"")[:500])
    body = response.json()
    expected_type = "validation_error" if status == 400 and attr is not None else None
    assert set(body) == {"type", "errors"}, body
    assert body["type"] in {"validation_error", "client_error", "server_error"}, body
    if expected_type:
        assert body["type"] == expected_type, body
    assert body["errors"], body
    for error in body["errors"]:
        assert set(error) == {"code", "detail", "attr"}, error
    matching = [e for e in body["errors"] if e["code"] == code and (attr is None or e["attr"] == attr)]
    assert matching, f"no error with code={code!r} attr={attr!r} in {body}"
    return body
