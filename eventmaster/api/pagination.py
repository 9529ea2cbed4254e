"""The one pagination shape of docs/api.md: ``{items, total, limit, offset}``.

DRF's LimitOffsetPagination silently ignores bad values; the contract wants a
400 for a non-integer, zero or negative limit and a non-integer or negative
offset. Limits above the maximum are clamped, however many digits they have;
offsets are clamped to PostgreSQL's bigint (MAX_OFFSET), so no value can
overflow the SQL OFFSET (and a page that far is empty anyway).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

# ASCII digits only (int() would also read "٣" or " 5" or "+5").
_DIGITS = re.compile(r"[0-9]+")
MAX_OFFSET = 2**63 - 1
_MAX_DIGITS = len(str(MAX_OFFSET))


def _parse(raw: str, name: str, minimum: int, ceiling: int) -> int:
    """``raw`` as an integer of at least ``minimum``, clamped to ``ceiling``.
    Never int() on a long string: Python refuses more than 4300 digits."""
    if not _DIGITS.fullmatch(raw):
        raise ValidationError({name: [f"Must be an integer of at least {minimum}."]}, code="invalid")
    digits = raw.lstrip("0") or "0"
    value = ceiling if len(digits) > _MAX_DIGITS else min(int(digits), ceiling)
    if value < minimum:
        raise ValidationError({name: [f"Must be an integer of at least {minimum}."]}, code="invalid")
    return value


class StrictLimitOffsetPagination(LimitOffsetPagination):
    default_limit = 20
    max_limit = 100

    def get_limit(self, request: Request) -> int:
        raw = request.query_params.get(self.limit_query_param)
        if raw is None:
            return self.default_limit
        return _parse(raw, self.limit_query_param, minimum=1, ceiling=self.max_limit)

    def get_offset(self, request: Request) -> int:
        raw = request.query_params.get(self.offset_query_param)
        if raw is None:
            return 0
        return _parse(raw, self.offset_query_param, minimum=0, ceiling=MAX_OFFSET)

    def paginate_queryset(
        self, queryset: QuerySet[Any] | Sequence[Any], request: Request, view: APIView | None = None
    ) -> list[Any]:
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        self.count = self.get_count(queryset)
        if self.offset >= self.count:
            # Past the end: no query with an OFFSET the database may reject.
            return []
        return list(queryset[self.offset : self.offset + self.limit])

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"items": data, "total": self.count, "limit": self.limit, "offset": self.offset})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["items", "total", "limit", "offset"],
            "properties": {
                "items": schema,
                "total": {"type": "integer", "minimum": 0, "example": 137},
                "limit": {"type": "integer", "minimum": 1, "maximum": self.max_limit, "example": 20},
                "offset": {"type": "integer", "minimum": 0, "example": 40},
            },
        }

    def get_schema_error_codes(self) -> dict[str, set[str]]:
        """The 400 validation codes of ``_parse``, by parameter, for the
        schema (eventmaster.api.schema.AutoSchema)."""
        return {self.limit_query_param: {"invalid"}, self.offset_query_param: {"invalid"}}

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        return [
            {
                "name": self.limit_query_param,
                "required": False,
                "in": "query",
                "description": f"Page size, 1-{self.max_limit} (default {self.default_limit}; larger values are clamped).",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.offset_query_param,
                "required": False,
                "in": "query",
                "description": "Index of the first item, 0 or more (default 0; values past 2^63-1 are clamped to it).",
                "schema": {"type": "integer", "minimum": 0},
            },
        ]
