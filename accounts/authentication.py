from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from .models import User
from .selectors import Along, user_get_for_auth


def signed_in_user(request: HttpRequest | Request) -> User:
    """The caller of a view or admin action that only signed-in users reach
    (its access rule already turned everyone else away): ``request.user``
    narrowed from ``User | AnonymousUser`` to the account."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("Sign-in required.")
    return user


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's bearer authentication, reading the user and their roles in
    one query (roles come from the database on every request, never from the
    token, so a role change applies to the next request). A view with an
    ``along_with_user(request)`` method gets the read it returns
    (accounts.selectors.Along) made in that query."""

    # simplejwt types its user as a TypeVar of a non-generic class (AuthUser):
    # no concrete override matches it, hence the two ignores below.
    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, Token] | None:  # type: ignore[override]
        self._request = request  # for get_user: the view's read along the user's
        result = super().authenticate(request)
        if result is not None:
            # For the request log line, which is written outside DRF.
            request._request.authenticated_user_id = result[0].pk  # type: ignore[attr-defined]  # an attribute of ours, read with getattr by eventmaster.middleware
        return result

    def get_user(self, validated_token: Token) -> User:  # type: ignore[override]  # see authenticate()
        try:
            user = user_get_for_auth(pk=validated_token[api_settings.USER_ID_CLAIM], along=self._view_along())
        except (KeyError, ValidationError) as exc:
            raise InvalidToken("Token contained no recognizable user identification") from exc
        if user is None:
            raise AuthenticationFailed("User not found.", code="user_not_found")
        if not user.is_active:
            raise AuthenticationFailed("User is inactive.", code="user_inactive")
        return user

    def _view_along(self) -> Along | None:
        request: Request | None = getattr(self, "_request", None)
        view = (request.parser_context or {}).get("view") if request is not None else None
        along_with_user = getattr(view, "along_with_user", None)
        return along_with_user(request) if along_with_user is not None else None
