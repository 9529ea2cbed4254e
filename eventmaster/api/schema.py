"""OpenAPI plumbing: every status code an endpoint can answer, with its codes.

drf-standardized-errors documents the generic errors (400 validation, 401,
403, 404, 405, 415, 429, 500; settings.DRF_STANDARDIZED_ERRORS); the
AutoSchema below adds what this API answers besides (docs/api.md, Conventions):
413 ``request_too_large`` on every operation that takes a body, 503
``service_unavailable`` with ``Retry-After`` on every operation, the 400 of
a bad ``limit``/``offset`` on every paginated list. ``error_responses``
adds an endpoint's domain errors (409 ``email_taken`` ...) so the schema
lists every code; a 400 domain error is merged into the operation's generic
400 (validation and parse errors), which it would otherwise replace.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache
from typing import Any

from django.db import models
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from drf_standardized_errors.openapi_serializers import (
    ClientErrorEnum,
    ParseErrorCodeEnum,
    ParseErrorResponseSerializer,
    ServerErrorEnum,
    ValidationErrorEnum,
)
from inflection import camelize
from rest_framework import serializers
from rest_framework.pagination import BasePagination

from eventmaster.errors import DomainError

# Both answers tell the client when to try again (docs/api.md, Conventions).
_RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer", "minimum": 1},
        "description": "Seconds to wait before retrying the same request.",
        "required": True,
    }
}
_STATUS_WITH_RETRY_AFTER = ("429", "503")


class AutoSchema(StandardizedErrorsAutoSchema):
    def _takes_body(self) -> bool:
        """Whether the operation reads a request body: only those can answer
        400 ``parse_error``, 413 and 415 (DRF parses the body on first use)."""
        return self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None

    def _list_paginator(self) -> BasePagination | None:
        """The paginator of a paginated list operation, else None."""
        if self.method != "GET" or not self._is_list_view():
            return None
        paginator: BasePagination | None = self._get_paginator()  # type: ignore[no-untyped-call]  # drf-spectacular's method is unannotated
        return paginator

    def _should_add_error_response(self, responses: dict[str, Any], status_code: str) -> bool:
        if status_code == "413" and not self._takes_body():
            return False
        # 503 (and any other code without a rule of its own) is added to
        # every operation by the base class: every one touches the database.
        return super()._should_add_error_response(responses, status_code)

    def _should_add_parse_error_response(self) -> bool:
        return self._takes_body() and super()._should_add_parse_error_response()

    def _should_add_http415_error_response(self) -> bool:
        return self._takes_body() and super()._should_add_http415_error_response()

    def _should_add_http429_error_response(self) -> bool:
        # Our limits come from django-ratelimit, not DRF throttles: a view
        # says it is limited with ``rate_limited = True``.
        return bool(getattr(self.view, "rate_limited", False)) or super()._should_add_http429_error_response()

    def _get_filter_parameters(self) -> list[dict[str, Any]]:
        # django-filter reads an empty value (``?status=``) as no filter, as
        # a form's blank field: say so, or an empty date-time is "invalid".
        return [
            {**parameter, "allowEmptyValue": True} if parameter.get("in") == "query" else parameter
            for parameter in super()._get_filter_parameters()  # type: ignore[no-untyped-call]  # unannotated upstream
        ]

    def _process_override_parameters(self, direction: str = "request") -> dict[Any, Any]:
        # A view's own query parameters follow the filters' rule: an empty
        # value (``?since=``) is the parameter left out.
        return {
            key: {**parameter, "allowEmptyValue": True}
            if parameter
            and parameter.get("in") == "query"
            and parameter.get("name") not in ("limit", "offset")
            else parameter
            for key, parameter in super()._process_override_parameters(direction).items()  # type: ignore[no-untyped-call]  # unannotated upstream
        }

    def _determine_fields_with_error_codes(self) -> list[Any]:
        fields: list[Any] = super()._determine_fields_with_error_codes()
        for data_field in fields:
            field = data_field.field
            if not isinstance(field, serializers.PrimaryKeyRelatedField) or field.read_only:
                continue
            if isinstance(field.get_queryset().model._meta.pk, models.UUIDField):  # type: ignore[union-attr]  # a writable related field has a queryset
                # DRF looks the value up with the model's UUIDField, whose
                # Django ValidationError for a malformed UUID DRF reports
                # as ``invalid`` (not incorrect_type).
                data_field.error_codes.add("invalid")
        return fields

    def _get_extra_validation_errors(self) -> dict[str, set[str]]:
        """The decorators' extra codes, plus the paginator's (a bad ``limit``
        or ``offset`` is a 400 on every paginated list)."""
        errors = {field: set(codes) for field, codes in super()._get_extra_validation_errors().items()}
        paginator = self._list_paginator()
        if paginator is not None and hasattr(paginator, "get_schema_error_codes"):
            for field, codes in paginator.get_schema_error_codes().items():
                errors.setdefault(field, set()).update(codes)
        return errors

    def _get_http400_serializer(self, domain_codes: tuple[str, ...] = ()) -> PolymorphicProxySerializer:
        """The generic 400 (validation and parse errors), with the view's 400
        domain errors (``client_error`` like a parse error) beside them."""
        variants: dict[str, Any] = {}
        if self._should_add_validation_error_response():
            variants[ValidationErrorEnum.VALIDATION_ERROR.value] = (
                self._get_serializer_for_validation_error_response()
            )
        client_codes = tuple(
            sorted(
                {
                    *domain_codes,
                    *(
                        [ParseErrorCodeEnum.PARSE_ERROR.value]
                        if self._should_add_parse_error_response()
                        else []
                    ),
                }
            )
        )
        if client_codes == (ParseErrorCodeEnum.PARSE_ERROR.value,):
            variants[ClientErrorEnum.CLIENT_ERROR.value] = ParseErrorResponseSerializer
        elif client_codes:
            variants[ClientErrorEnum.CLIENT_ERROR.value] = _domain_error_serializer(400, client_codes)
        return PolymorphicProxySerializer(
            component_name=f"{camelize(self.get_operation_id())}ErrorResponse400",
            serializers=variants,
            resource_type_field_name="type",
        )

    def _get_response_for_code(
        self, serializer: Any, status_code: str, media_types: Any = None, direction: str = "response"
    ) -> dict[str, Any]:
        if status_code == "400" and direction == "response":
            codes = getattr(getattr(serializer, "response", serializer), "domain_error_codes", None)
            if codes:
                description = getattr(serializer, "description", "")
                serializer = OpenApiResponse(self._get_http400_serializer(codes), description=description)
        response: dict[str, Any] = super()._get_response_for_code(
            serializer, status_code, media_types, direction
        )  # type: ignore[no-untyped-call]  # unannotated upstream
        if status_code in _STATUS_WITH_RETRY_AFTER and direction == "response":
            response = {"headers": {**response.get("headers", {}), **_RETRY_AFTER}, **response}
        return response


class ErrorCode401Enum(models.TextChoices):
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    TOKEN_NOT_VALID = "token_not_valid"  # noqa: S105 - an error code
    BAD_AUTHORIZATION_HEADER = "bad_authorization_header"
    USER_NOT_FOUND = "user_not_found"
    USER_INACTIVE = "user_inactive"


class ErrorCode413Enum(models.TextChoices):
    REQUEST_TOO_LARGE = "request_too_large"


class ErrorCode429Enum(models.TextChoices):
    RATE_LIMITED = "rate_limited"


class ErrorCode503Enum(models.TextChoices):
    SERVICE_UNAVAILABLE = "service_unavailable"


def _error_item(
    name: str, code_field: serializers.Field[Any, Any, Any, Any]
) -> type[serializers.Serializer[Any]]:
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


def _error_response(
    name: str, item: type[serializers.Serializer[Any]], error_type: type[models.TextChoices] = ClientErrorEnum
) -> type[serializers.Serializer[Any]]:
    return type(
        f"{name}ErrorResponse",
        (serializers.Serializer,),
        {
            "type": serializers.ChoiceField(choices=error_type.choices),
            "errors": item(many=True),
        },
    )


_Error401 = _error_item("Error401", serializers.ChoiceField(choices=ErrorCode401Enum.choices))
ErrorResponse401Serializer = _error_response("Error401", _Error401)
_Error413 = _error_item("Error413", serializers.ChoiceField(choices=ErrorCode413Enum.choices))
ErrorResponse413Serializer = _error_response("Error413", _Error413)
_Error429 = _error_item("Error429", serializers.ChoiceField(choices=ErrorCode429Enum.choices))
ErrorResponse429Serializer = _error_response("Error429", _Error429)
_Error503 = _error_item("Error503", serializers.ChoiceField(choices=ErrorCode503Enum.choices))
ErrorResponse503Serializer = _error_response("Error503", _Error503, ServerErrorEnum)


@cache
def _domain_error_serializer(status_code: int, codes: tuple[str, ...]) -> type[serializers.Serializer[Any]]:
    name = f"Error{status_code}" + "".join(c.title().replace("_", "") for c in codes)
    item = _error_item(name, serializers.ChoiceField(choices=[(c, c) for c in codes]))
    serializer = _error_response(name, item)
    # Read by AutoSchema: a 400 domain error joins the generic 400.
    serializer.domain_error_codes = codes  # type: ignore[attr-defined]  # a class built here; an attribute of ours
    return serializer


def error_responses(*errors: type[DomainError]) -> dict[int, OpenApiResponse]:
    """``extend_schema(responses={200: X, **error_responses(EmailTakenError)})``."""
    by_status: dict[int, list[type[DomainError]]] = defaultdict(list)
    for error in errors:
        by_status[int(error.status_code)].append(error)
    return {
        status_code: OpenApiResponse(
            response=_domain_error_serializer(status_code, tuple(sorted(e.default_code for e in group))),
            description="; ".join(f"`{e.default_code}`: {e.default_detail}" for e in group),
        )
        for status_code, group in by_status.items()
    }


def postprocess_indexed_attrs(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-standardized-errors names the ``attr`` of a list item's error
    ``roles.INDEX``; the server says ``roles.0``. Such an attr becomes a
    pattern, and the oneOf that holds it loses its discriminator (whose
    mapping could only name the placeholder)."""
    schemas = result.get("components", {}).get("schemas", {})
    for component in schemas.values():
        attr = component.get("properties", {}).get("attr", {})
        if len(attr.get("enum", [])) == 1 and ".INDEX" in attr["enum"][0]:
            placeholder = attr["enum"][0]
            component["properties"]["attr"] = {
                "type": "string",
                "pattern": "^" + re.escape(placeholder).replace("INDEX", "[0-9]+") + "$",
                "description": f"`{placeholder}`, INDEX being the item's position (from 0)",
            }
    for component in schemas.values():
        if any(".INDEX" in key for key in component.get("discriminator", {}).get("mapping", {})):
            del component["discriminator"]
    return result
