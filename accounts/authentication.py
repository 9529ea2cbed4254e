from django.core.exceptions import ValidationError
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings

from .selectors import user_get_for_auth


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's bearer authentication, reading the user and their roles in
    one query (roles come from the database on every request, never from the
    token, so a role change applies to the next request)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            # For the request log line, which is written outside DRF.
            request._request.authenticated_user_id = result[0].pk
        return result

    def get_user(self, validated_token):
        try:
            user = user_get_for_auth(pk=validated_token[api_settings.USER_ID_CLAIM])
        except (KeyError, ValidationError) as exc:
            raise InvalidToken("Token contained no recognizable user identification") from exc
        if user is None:
            raise AuthenticationFailed("User not found.", code="user_not_found")
        if not user.is_active:
            raise AuthenticationFailed("User is inactive.", code="user_inactive")
        return user
