"""POST /auth/register, /auth/login, /auth/refresh, /auth/logout (docs/api.md, Signing in)."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from eventmaster.tests.utils import assert_error, client_for

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/me"
STRONG = "correct-horse-battery-staple"


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


class TestRegister:
    def test_creates_member_and_returns_working_tokens(self, api_client):
        response = api_client.post(
            REGISTER, {"email": "Ann@Example.org", "password": STRONG, "full_name": "Ann Lee"}
        )
        assert response.status_code == 201
        body = response.json()
        assert set(body) == {"user", "access", "refresh"}
        assert set(body["user"]) == {"id", "email", "full_name", "roles", "is_active", "date_joined"}
        assert body["user"]["email"] == "ann@example.org"
        assert body["user"]["roles"] == ["member"]
        assert body["user"]["is_active"] is True
        assert body["user"]["date_joined"].endswith("Z")
        me = bearer(body["access"]).get(ME)
        assert me.status_code == 200 and me.json()["id"] == body["user"]["id"]

    def test_duplicate_email_any_case_is_409_email_taken(self, api_client):
        UserFactory(email="ann@example.org")
        response = api_client.post(
            REGISTER, {"email": "ANN@example.ORG", "password": STRONG, "full_name": "Ann"}
        )
        assert_error(response, 409, "email_taken")
        assert User.objects.filter(email__iexact="ann@example.org").count() == 1

    @pytest.mark.parametrize(
        ("password", "code"),
        [
            ("short", "password_too_short"),
            ("password123", "password_too_common"),
            ("8230492384756", "password_entirely_numeric"),
        ],
    )
    def test_weak_password_is_400(self, api_client, password, code):
        response = api_client.post(
            REGISTER, {"email": "bob@example.org", "password": password, "full_name": "Bob"}
        )
        assert_error(response, 400, code, attr="password")
        assert not User.objects.filter(email="bob@example.org").exists()

    def test_password_like_the_email_is_400(self, api_client):
        response = api_client.post(
            REGISTER, {"email": "roberta.smith@example.org", "password": "roberta.smith", "full_name": "R"}
        )
        assert_error(response, 400, "password_too_similar", attr="password")

    @pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.org", "a b@example.org"])
    def test_bad_email_is_400(self, api_client, email):
        response = api_client.post(REGISTER, {"email": email, "password": STRONG, "full_name": "X"})
        assert_error(response, 400, "invalid", attr="email")

    def test_missing_fields_are_400_required(self, api_client):
        response = api_client.post(REGISTER, {})
        for field in ("email", "password", "full_name"):
            assert_error(response, 400, "required", attr=field)

    def test_nul_byte_is_400_not_500(self, api_client):
        response = api_client.post(
            REGISTER, {"email": "x@example.org", "password": STRONG, "full_name": "A\x00B"}
        )
        assert_error(response, 400, "null_characters_not_allowed", attr="full_name")

    def test_get_is_405(self, api_client):
        assert_error(api_client.get(REGISTER), 405, "method_not_allowed")

    def test_stale_bearer_token_does_not_block_sign_up(self, api_client):
        api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
        response = api_client.post(REGISTER, {"email": "c@example.org", "password": STRONG, "full_name": "C"})
        assert response.status_code == 201


class TestLogin:
    def test_returns_user_and_tokens(self, api_client, member):
        response = api_client.post(LOGIN, {"email": member.email.upper(), "password": DEFAULT_PASSWORD})
        assert response.status_code == 200
        body = response.json()
        assert body["user"]["id"] == str(member.pk)
        assert bearer(body["access"]).get(ME).status_code == 200
        member.refresh_from_db()
        assert member.last_login is not None

    def test_wrong_password_and_unknown_email_answer_the_same(self, api_client, member):
        wrong = api_client.post(LOGIN, {"email": member.email, "password": "nope-nope-nope"})
        unknown = api_client.post(LOGIN, {"email": "ghost@example.org", "password": "nope-nope-nope"})
        assert_error(wrong, 401, "invalid_credentials")
        assert_error(unknown, 401, "invalid_credentials")
        assert wrong.json() == unknown.json()
        assert wrong["WWW-Authenticate"].startswith("Bearer")

    def test_inactive_user_cannot_log_in(self, api_client):
        user = UserFactory(is_active=False)
        response = api_client.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD})
        assert_error(response, 401, "invalid_credentials")

    def test_missing_fields_are_400(self, api_client):
        response = api_client.post(LOGIN, {"email": "a@example.org"})
        assert_error(response, 400, "required", attr="password")


class TestRefresh:
    def test_rotates_and_blacklists_the_old_token(self, api_client, member):
        first = api_client.post(LOGIN, {"email": member.email, "password": DEFAULT_PASSWORD}).json()
        response = api_client.post(REFRESH, {"refresh": first["refresh"]})
        assert response.status_code == 200
        pair = response.json()
        assert set(pair) == {"access", "refresh"}
        assert pair["refresh"] != first["refresh"]
        assert bearer(pair["access"]).get(ME).status_code == 200
        # The old refresh token was used once and no longer works.
        assert_error(api_client.post(REFRESH, {"refresh": first["refresh"]}), 401, "token_not_valid")
        # The new one does.
        assert api_client.post(REFRESH, {"refresh": pair["refresh"]}).status_code == 200

    def test_garbage_and_access_tokens_are_401(self, api_client, member):
        tokens = api_client.post(LOGIN, {"email": member.email, "password": DEFAULT_PASSWORD}).json()
        assert_error(api_client.post(REFRESH, {"refresh": "garbage"}), 401, "token_not_valid")
        assert_error(api_client.post(REFRESH, {"refresh": tokens["access"]}), 401, "token_not_valid")

    def test_deactivated_user_cannot_refresh(self, api_client, member):
        tokens = api_client.post(LOGIN, {"email": member.email, "password": DEFAULT_PASSWORD}).json()
        User.objects.filter(pk=member.pk).update(is_active=False)
        assert_error(api_client.post(REFRESH, {"refresh": tokens["refresh"]}), 401, "token_not_valid")

    def test_missing_refresh_is_400(self, api_client):
        assert_error(api_client.post(REFRESH, {}), 400, "required", attr="refresh")


class TestLogout:
    def test_logout_makes_the_refresh_token_unusable(self, api_client, member):
        tokens = api_client.post(LOGIN, {"email": member.email, "password": DEFAULT_PASSWORD}).json()
        client = bearer(tokens["access"])
        response = client.post(LOGOUT, {"refresh": tokens["refresh"]})
        assert response.status_code == 204
        assert response.content == b""
        assert_error(api_client.post(REFRESH, {"refresh": tokens["refresh"]}), 401, "token_not_valid")

    def test_anonymous_is_401(self, api_client):
        assert_error(api_client.post(LOGOUT, {"refresh": "x"}), 401, "not_authenticated")

    def test_someone_elses_refresh_token_is_400(self, api_client, member):
        other = UserFactory()
        tokens = api_client.post(LOGIN, {"email": other.email, "password": DEFAULT_PASSWORD}).json()
        response = client_for(member).post(LOGOUT, {"refresh": tokens["refresh"]})
        assert_error(response, 400, "token_not_valid", attr="refresh")
        # The other user's session survives.
        assert api_client.post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 200

    def test_invalid_refresh_token_is_400(self, member_client):
        assert_error(
            member_client.post(LOGOUT, {"refresh": "garbage"}), 400, "token_not_valid", attr="refresh"
        )


class TestVerifiedTokens:
    """An access token is verified once per process (its signature and
    claims never change); expiry is checked on every request, and the user
    is read on every request."""

    @pytest.fixture
    def verifications(self, monkeypatch):
        from rest_framework_simplejwt import authentication

        from accounts import authentication as ours

        monkeypatch.setattr(ours, "_verified", {})
        calls = []
        verify = authentication.JWTAuthentication.get_validated_token

        def counting(self, raw_token):
            calls.append(raw_token)
            return verify(self, raw_token)

        monkeypatch.setattr(authentication.JWTAuthentication, "get_validated_token", counting)
        return calls

    def test_a_token_is_verified_once(self, member, verifications):
        client = client_for(member)
        assert [client.get("/api/v1/me/registrations").status_code for _ in range(3)] == [200] * 3
        assert len(verifications) == 1

    def test_an_expired_token_is_refused_as_simplejwt_refuses_it(self, member, verifications, monkeypatch):
        from datetime import timedelta

        from rest_framework_simplejwt.utils import aware_utcnow

        from accounts import authentication as ours

        client = client_for(member)
        assert client.get("/api/v1/me/registrations").status_code == 200
        later = aware_utcnow() + timedelta(days=1)
        monkeypatch.setattr(ours, "aware_utcnow", lambda: later)
        monkeypatch.setattr("rest_framework_simplejwt.tokens.aware_utcnow", lambda: later)
        expired = client.get("/api/v1/me/registrations")
        assert expired.status_code == 401
        assert len(verifications) == 2  # verified again, and refused with its own error
        fresh = APIClient()  # the token, never seen by the cache: the same answer
        fresh.credentials(**client._credentials)
        monkeypatch.setattr(ours, "_verified", {})
        assert fresh.get("/api/v1/me/registrations").json() == expired.json()

    def test_a_forged_token_is_never_kept(self, member, verifications):
        client = client_for(member)
        header = client._credentials["HTTP_AUTHORIZATION"]
        client.credentials(HTTP_AUTHORIZATION=header[:-2] + ("AA" if not header.endswith("AA") else "BB"))
        assert [client.get("/api/v1/me/registrations").status_code for _ in range(2)] == [401, 401]
        assert len(verifications) == 2

    def test_a_deactivated_user_is_refused_at_once(self, member, verifications):
        client = client_for(member)
        assert client.get("/api/v1/me/registrations").status_code == 200
        User.objects.filter(pk=member.pk).update(is_active=False)
        assert client.get("/api/v1/me/registrations").status_code == 401

    def test_tokens_are_forgotten_when_the_jwt_settings_change(self, member, verifications, settings):
        client = client_for(member)
        assert client.get("/api/v1/me/registrations").status_code == 200
        settings.SIMPLE_JWT = {
            **settings.SIMPLE_JWT,
            "ACCESS_TOKEN_LIFETIME": settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"],
        }
        assert client.get("/api/v1/me/registrations").status_code == 200
        assert len(verifications) == 2  # verified again under the new settings
