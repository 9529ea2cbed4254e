"""GET/PATCH /me and POST /me/password."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from eventmaster.tests.utils import assert_error

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"
PASSWORD = "/api/v1/me/password"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"


class TestMe:
    def test_get_returns_the_caller(self, member_client, member):
        body = member_client.get(ME).json()
        assert body == {
            "id": str(member.pk),
            "email": member.email,
            "full_name": member.full_name,
            "roles": ["member"],
            "is_active": True,
            "date_joined": body["date_joined"],
        }

    def test_anonymous_is_401_with_www_authenticate(self, api_client):
        response = api_client.get(ME)
        assert_error(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"].startswith("Bearer")

    @pytest.mark.parametrize("header", ["Bearer garbage", "Bearer a.b.c", "Bearer"])
    def test_bad_token_is_one_error_item(self, api_client, header):
        api_client.credentials(HTTP_AUTHORIZATION=header)
        response = api_client.get(ME)
        assert response.status_code == 401
        body = response.json()
        if header != "Bearer":  # a bare "Bearer" is no token at all
            assert len(body["errors"]) == 1
            assert_error(response, 401, "token_not_valid")

    def test_expired_token_is_401(self, api_client, member):
        token = AccessToken.for_user(member)
        token.set_exp(lifetime=-timedelta(seconds=1))
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert_error(api_client.get(ME), 401, "token_not_valid")

    def test_patch_changes_the_name_only(self, member_client, member):
        response = member_client.patch(
            ME, {"full_name": "New Name", "email": "evil@example.org", "roles": ["admin"]}
        )
        assert response.status_code == 200
        assert response.json()["full_name"] == "New Name"
        member.refresh_from_db()
        assert member.full_name == "New Name"
        assert member.email != "evil@example.org"
        assert response.json()["roles"] == ["member"]

    def test_patch_validates(self, member_client):
        assert_error(member_client.patch(ME, {"full_name": "x" * 151}), 400, "max_length", attr="full_name")
        assert_error(member_client.patch(ME, {"full_name": ""}), 400, "blank", attr="full_name")

    @pytest.mark.parametrize("value", [0, 1.5, True, ["x"], {"x": 1}])
    def test_patch_refuses_a_name_that_is_not_a_json_string(self, member_client, member, value):
        """Found by Schemathesis: DRF's CharField stored ``0`` as "0"."""
        assert_error(member_client.patch(ME, {"full_name": value}), 400, "invalid", attr="full_name")
        member.refresh_from_db()
        assert member.full_name != str(value)

    def test_patch_anonymous_is_401(self, api_client):
        assert_error(api_client.patch(ME, {"full_name": "x"}), 401, "not_authenticated")

    def test_put_is_405(self, member_client):
        assert_error(member_client.put(ME, {"full_name": "x"}), 405, "method_not_allowed")

    def test_a_signed_token_naming_no_valid_user_id_is_401(self, api_client, member):
        token = AccessToken.for_user(member)
        token["user_id"] = "not-a-uuid"
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert_error(api_client.get(ME), 401, "token_not_valid")

    def test_deleted_user_token_is_401(self, member_client, member):
        member.delete()
        assert_error(member_client.get(ME), 401, "user_not_found")


class TestPasswordChange:
    def test_changes_password_and_signs_sessions_out(self, api_client, member):
        tokens = api_client.post(LOGIN, {"email": member.email, "password": DEFAULT_PASSWORD}).json()
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        response = client.post(
            PASSWORD, {"current_password": DEFAULT_PASSWORD, "new_password": "a-brand-new-secret-42"}
        )
        assert response.status_code == 204
        assert_error(
            api_client.post(LOGIN, {"email": member.email, "password": DEFAULT_PASSWORD}),
            401,
            "invalid_credentials",
        )
        assert (
            api_client.post(LOGIN, {"email": member.email, "password": "a-brand-new-secret-42"}).status_code
            == 200
        )
        assert_error(api_client.post(REFRESH, {"refresh": tokens["refresh"]}), 401, "token_not_valid")

    def test_wrong_current_password_is_400(self, member_client):
        response = member_client.post(
            PASSWORD, {"current_password": "wrong", "new_password": "a-brand-new-secret-42"}
        )
        assert_error(response, 400, "wrong_password", attr="current_password")

    def test_weak_new_password_is_400(self, member_client, member):
        response = member_client.post(PASSWORD, {"current_password": DEFAULT_PASSWORD, "new_password": "123"})
        assert_error(response, 400, "password_too_short", attr="new_password")
        member.refresh_from_db()
        assert member.check_password(DEFAULT_PASSWORD)

    def test_missing_fields_are_400(self, member_client):
        response = member_client.post(PASSWORD, {})
        assert_error(response, 400, "required", attr="current_password")
        assert_error(response, 400, "required", attr="new_password")

    def test_anonymous_is_401(self, api_client):
        assert_error(api_client.post(PASSWORD, {}), 401, "not_authenticated")

    def test_inactive_user_token_is_401(self, member_client, member):
        UserFactory._meta.model.objects.filter(pk=member.pk).update(is_active=False)
        assert_error(member_client.post(PASSWORD, {}), 401, "user_inactive")
