from uuid import UUID

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from eventmaster.api.permissions import RuleAccess
from eventmaster.api.ratelimit import enforce_rate_limit
from eventmaster.api.schema import error_responses
from eventmaster.api.serializers import validate_input
from eventmaster.converters import UUID_CONVERTER
from eventmaster.rules import ANYONE, SIGNED_IN

from . import services
from .authentication import signed_in_user
from .errors import CannotDemoteSelfError, EmailTakenError, InvalidCredentialsError, TokenNotValidError
from .filters import UserFilterSet
from .models import User, normalize_email
from .rules import MANAGE_USERS
from .selectors import user_list
from .serializers import (
    AuthResponseSerializer,
    LoginInputSerializer,
    MeUpdateInputSerializer,
    PasswordChangeInputSerializer,
    RefreshInputSerializer,
    RegisterInputSerializer,
    TokenPairSerializer,
    UserSerializer,
    UserUpdateInputSerializer,
)


def _auth_response(user: User, status_code: int = status.HTTP_200_OK) -> Response:
    return Response({"user": UserSerializer(user).data, **services.tokens_for(user=user)}, status=status_code)


# Codes of Django's password validators (settings.AUTH_PASSWORD_VALIDATORS),
# raised by the services: documented in the schema with the serializer's own.
PASSWORD_ERROR_CODES = [
    "password_too_similar",
    "password_too_short",
    "password_too_common",
    "password_entirely_numeric",
]


class PublicAuthView(RuleAccess, APIView):
    """Sign-up, login and refresh take no bearer token: a stale one in the
    header must not stand in the way of getting a new one."""

    authentication_classes = ()
    access = {"post": ANYONE}


@extend_validation_errors(PASSWORD_ERROR_CODES, field_name="password", methods=["post"])
class RegisterView(PublicAuthView):
    rate_limited = True

    @extend_schema(
        tags=["auth"],
        request=RegisterInputSerializer,
        responses={201: AuthResponseSerializer, **error_responses(EmailTakenError)},
        summary="Sign up (the new account is a member)",
    )
    def post(self, request: Request) -> Response:
        enforce_rate_limit(request, group="auth.register.ip", key="ip", rate="30/h")
        data = validate_input(RegisterInputSerializer, request.data)
        # The account and its first tokens (a row each) commit together: a
        # sign-up is never committed and then answered with an error.
        with transaction.atomic():
            return _auth_response(services.user_create(**data), status.HTTP_201_CREATED)


class LoginView(PublicAuthView):
    rate_limited = True

    @extend_schema(
        tags=["auth"],
        request=LoginInputSerializer,
        responses={200: AuthResponseSerializer, **error_responses(InvalidCredentialsError)},
        summary="Log in with e-mail and password",
    )
    def post(self, request: Request) -> Response:
        enforce_rate_limit(request, group="auth.login.ip", key="ip", rate="30/m")
        data = validate_input(LoginInputSerializer, request.data)
        enforce_rate_limit(request, group="auth.login.email", key=normalize_email(data["email"]), rate="5/m")
        user = services.user_login(request=request._request, **data)
        return _auth_response(user)


class RefreshView(PublicAuthView):
    @extend_schema(
        tags=["auth"],
        request=RefreshInputSerializer,
        responses={200: TokenPairSerializer, **error_responses(TokenNotValidError)},
        summary="Exchange a refresh token for a new pair (the old one stops working)",
    )
    def post(self, request: Request) -> Response:
        data = validate_input(RefreshInputSerializer, request.data)
        return Response(services.token_refresh(refresh=data["refresh"]))


@extend_validation_errors(["token_not_valid"], field_name="refresh", methods=["post"])
class LogoutView(RuleAccess, APIView):
    access = {"post": SIGNED_IN}

    @extend_schema(tags=["auth"], request=RefreshInputSerializer, responses={204: None}, summary="Log out")
    def post(self, request: Request) -> Response:
        data = validate_input(RefreshInputSerializer, request.data)
        services.token_revoke(user=signed_in_user(request), refresh=data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(RuleAccess, APIView):
    access = {"get": SIGNED_IN, "patch": SIGNED_IN}

    @extend_schema(tags=["me"], responses={200: UserSerializer}, summary="The caller's account")
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request.user).data)

    @extend_schema(
        tags=["me"],
        request=MeUpdateInputSerializer,
        responses={200: UserSerializer},
        summary="Edit the caller's name (e-mail and roles are not self-editable)",
    )
    def patch(self, request: Request) -> Response:
        data = validate_input(MeUpdateInputSerializer, request.data, partial=True)
        me = signed_in_user(request)
        user = services.user_update(user=me, by=me, **data)
        return Response(UserSerializer(user).data)


@extend_validation_errors(["wrong_password"], field_name="current_password", methods=["post"])
@extend_validation_errors(PASSWORD_ERROR_CODES, field_name="new_password", methods=["post"])
class MePasswordView(RuleAccess, APIView):
    access = {"post": SIGNED_IN}

    @extend_schema(
        tags=["me"],
        request=PasswordChangeInputSerializer,
        responses={204: None},
        summary="Change the caller's password (signs out the other sessions)",
    )
    def post(self, request: Request) -> Response:
        data = validate_input(PasswordChangeInputSerializer, request.data)
        services.user_change_password(user=signed_in_user(request), **data)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(tags=["users"], summary="List accounts (admin)"),
    retrieve=extend_schema(tags=["users"], summary="One account (admin)"),
    partial_update=extend_schema(
        tags=["users"],
        request=UserUpdateInputSerializer,
        responses={200: UserSerializer, **error_responses(CannotDemoteSelfError)},
        summary="Edit roles, activity or name of an account (admin)",
    ),
)
class UserViewSet(RuleAccess, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    access = {"list": MANAGE_USERS, "retrieve": MANAGE_USERS, "partial_update": MANAGE_USERS}
    serializer_class = UserSerializer
    filterset_class = UserFilterSet
    lookup_value_converter = UUID_CONVERTER
    http_method_names = ("get", "patch", "head", "options")

    def get_queryset(self) -> QuerySet[User]:
        return user_list()

    def partial_update(self, request: Request, pk: UUID | None = None) -> Response:
        user = self.get_object()
        data = validate_input(UserUpdateInputSerializer, request.data, partial=True)
        # Re-read (with the roles annotated) before the update commits.
        with transaction.atomic():
            services.user_update(user=user, by=signed_in_user(request), **data)
            return Response(UserSerializer(self.get_object()).data)
