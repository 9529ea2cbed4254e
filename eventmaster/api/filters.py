"""Shared django-filter pieces."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .serializers import OFFSET_REQUIRED, lacks_utc_offset


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.TypedChoiceFilter):
    """``true`` or ``false``; anything else is a 400, not silently ignored
    (django-filter's BooleanFilter drops values it cannot read)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("choices", (("true", "true"), ("false", "false")))
        kwargs.setdefault("coerce", lambda value: value == "true")
        kwargs.setdefault("empty_value", None)
        super().__init__(*args, **kwargs)


class OffsetIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    def to_python(self, value: Any) -> Any:
        if lacks_utc_offset(value):
            raise forms.ValidationError(OFFSET_REQUIRED, code="invalid")
        return super().to_python(value)


class OffsetIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """ISO 8601 with an offset (``Z`` is one), or a date alone (midnight
    UTC); a naive date-time is a 400, as in request bodies
    (eventmaster.api.serializers.OffsetDateTimeField)."""

    field_class = OffsetIsoDateTimeField
