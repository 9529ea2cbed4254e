"""The one pagination shape of API.md: ``{items, total, limit, offset}``.

DRF's LimitOffsetPagination silently ignores bad values; the contract wants a
400 for a non-integer, zero or negative limit and a non-integer or negative
offset. Limits above the maximum are clamped.
"""

import re

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response

_DIGITS = re.compile(r"[0-9]{1,18}")


def _parse(raw: str, name: str, minimum: int) -> int:
    if not _DIGITS.fullmatch(raw) or int(raw) < minimum:
        raise ValidationError({name: [f"Must be an integer of at least {minimum}."]}, code="invalid")
    return int(raw)


class StrictLimitOffsetPagination(LimitOffsetPagination):
    default_limit = 20
    max_limit = 100

    def get_limit(self, request) -> int:
        raw = request.query_params.get(self.limit_query_param)
        if raw is None:
            return self.default_limit
        return min(_parse(raw, self.limit_query_param, minimum=1), self.max_limit)

    def get_offset(self, request) -> int:
        raw = request.query_params.get(self.offset_query_param)
        if raw is None:
            return 0
        return _parse(raw, self.offset_query_param, minimum=0)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        self.count = self.get_count(queryset)
        if self.offset >= self.count:
            # Past the end: no query with an OFFSET the database may reject.
            return []
        return list(queryset[self.offset : self.offset + self.limit])

    def get_paginated_response(self, data) -> Response:
        return Response({"items": data, "total": self.count, "limit": self.limit, "offset": self.offset})

    def get_paginated_response_schema(self, schema: dict) -> dict:
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

    def get_schema_operation_parameters(self, view) -> list[dict]:
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
                "description": "Index of the first item, 0 or more (default 0).",
                "schema": {"type": "integer", "minimum": 0},
            },
        ]
