from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import aware_utcnow

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


# Access tokens already verified by this process (JWTAuthentication.get_validated_token),
# forgotten when the settings that verify them change (tests).
_VERIFIED_MAX = 4096
_verified: dict[bytes, Token] = {}


@receiver(setting_changed)
def _forget_verified_tokens(*, setting: str, **kwargs: object) -> None:
    if setting in ("SIMPLE_JWT", "SECRET_KEY"):
        _verified.clear()


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

    def get_validated_token(self, raw_token: bytes) -> Token:
        """simplejwt's validation, done once per token and process: an access
        token's signature and claims never change, so a token seen before
        (a door phone sends the same one for 15 minutes) is only checked
        for expiry again (then simplejwt's own error, if it expired). What
        is not fixed by the token, the user and their roles, is read on
        every request."""
        token = _verified.get(raw_token)
        if token is not None:
            try:
                token.check_exp(current_time=aware_utcnow())
            except TokenError:
                _verified.pop(raw_token, None)
            else:
                return token
        token = super().get_validated_token(raw_token)
        if len(_verified) >= _VERIFIED_MAX:
            _verified.clear()  # a crude bound: a busy process re-verifies at most every few thousand tokens
        _verified[raw_token] = token
        return token

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
