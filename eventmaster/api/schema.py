"""OpenAPI plumbing: every status code an endpoint can answer, with its codes.

drf-standardized-errors documents the generic errors (400 validation, 401,
403, 404, 405, 415, 429, 500); ``error_responses`` adds an endpoint's
domain errors (409 ``email_taken`` ...) so the schema lists every code.
"""

from collections import defaultdict
from functools import cache

from django.db import models
from drf_spectacular.utils import OpenApiResponse
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum
from rest_framework import serializers

from .errors import DomainError


class AutoSchema(StandardizedErrorsAutoSchema):
    def _should_add_http429_error_response(self) -> bool:
        # Our limits come from django-ratelimit, not DRF throttles: a view
        # says it is limited with ``rate_limited = True``.
        return bool(getattr(self.view, "rate_limited", False)) or super()._should_add_http429_error_response()

    def _should_add_http403_error_response(self) -> bool:
        # A view that checks permission in its code (after loading an object
        # no permission class sees) says so with ``may_forbid = True``.
        return bool(getattr(self.view, "may_forbid", False)) or super()._should_add_http403_error_response()


class ErrorCode401Enum(models.TextChoices):
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    TOKEN_NOT_VALID = "token_not_valid"  # noqa: S105 - an error code
    BAD_AUTHORIZATION_HEADER = "bad_authorization_header"
    USER_NOT_FOUND = "user_not_found"
    USER_INACTIVE = "user_inactive"


class ErrorCode429Enum(models.TextChoices):
    RATE_LIMITED = "rate_limited"


def _error_item(name: str, code_field: serializers.Field) -> type[serializers.Serializer]:
    # The "ErrorComponent" suffix keeps these out of the enum post-processing
    # hook, which would otherwise merge equal-named code enums.
    return type(
        f"{name}ErrorComponent",
        (serializers.Serializer,),
        {
            "code": code_field,
            "detail": serializers.CharField(),
            "attr": serializers.CharField(allow_null=True),
        },
    )


def _error_response(name: str, item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    return type(
        f"{name}ErrorResponse",
        (serializers.Serializer,),
        {
            "type": serializers.ChoiceField(choices=ClientErrorEnum.choices),
            "errors": item(many=True),
        },
    )


_Error401 = _error_item("Error401", serializers.ChoiceField(choices=ErrorCode401Enum.choices))
ErrorResponse401Serializer = _error_response("Error401", _Error401)
_Error429 = _error_item("Error429", serializers.ChoiceField(choices=ErrorCode429Enum.choices))
ErrorResponse429Serializer = _error_response("Error429", _Error429)


@cache
def _domain_error_serializer(status_code: int, codes: tuple[str, ...]) -> type[serializers.Serializer]:
    name = f"Error{status_code}" + "".join(c.title().replace("_", "") for c in codes)
    item = _error_item(name, serializers.ChoiceField(choices=[(c, c) for c in codes]))
    return _error_response(name, item)


def error_responses(*errors: type[DomainError]) -> dict[int, OpenApiResponse]:
    """``extend_schema(responses={200: X, **error_responses(EmailTakenError)})``."""
    by_status: dict[int, list[type[DomainError]]] = defaultdict(list)
    for error in errors:
        by_status[error.status_code].append(error)
    return {
        status_code: OpenApiResponse(
            response=_domain_error_serializer(status_code, tuple(sorted(e.default_code for e in group))),
            description="; ".join(f"`{e.default_code}`: {e.default_detail}" for e in group),
        )
        for status_code, group in by_status.items()
    }
