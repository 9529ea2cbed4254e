"""Shared input plumbing: validate_input, and the strict fields every input
serializer uses for UUIDs and timestamps (docs/api.md, Conventions)."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import serializers

OFFSET_REQUIRED = "Datetime needs a UTC offset, e.g. 2026-05-01T18:00:00Z or 2026-05-01T20:00:00+02:00."


def validate_input(
    serializer_class: type[serializers.Serializer[Any]], data: Any, **kwargs: Any
) -> dict[str, Any]:
    """Validate request data with an input serializer (400 on errors) and
    return the validated data, for views that hand it to a service."""
    serializer = serializer_class(data=data, **kwargs)
    refuse_other_json_types(serializer, data)
    serializer.is_valid(raise_exception=True)
    validated: dict[str, Any] = serializer.validated_data
    return validated


class StrictUUIDField(serializers.UUIDField):
    """A UUID, as a string only. DRF's UUIDField also takes an integer (and
    so ``true``, an int in Python) as ``UUID(int=...)``: ``"nonce": true``
    would be the nonce 00000000-...-0001. Any non-string is 400 ``invalid``."""

    def to_internal_value(self, data: Any) -> uuid.UUID:
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


def lacks_utc_offset(value: object) -> bool:
    """A date and time without a UTC offset ("2027-05-01T18:00:00"), which
    Django would silently read as UTC. A date alone is no time of day and
    stays accepted (midnight UTC); what cannot be parsed is left to the
    field's own error."""
    if not isinstance(value, str):
        return False
    value = value.strip()
    try:
        parsed = parse_datetime(value)
        if parsed is None or parsed.tzinfo is not None:
            return False
        return parse_date(value) is None
    except ValueError:
        return False


class OffsetDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an offset (``Z`` is one), or a date alone; a naive
    date-time is 400 ``invalid``, never silently UTC."""

    def to_internal_value(self, value: Any) -> datetime.datetime:
        if lacks_utc_offset(value):
            raise serializers.ValidationError(OFFSET_REQUIRED, code="invalid")
        return super().to_internal_value(value)


# The JSON types the OpenAPI document gives these fields. DRF is lenient:
# its CharField stores the number 0 as "0", its BooleanField takes 0, 1 and
# "yes", its IntegerField takes "5". A client sending another type has a bug
# we should tell it about, not guess around.
_JSON_TYPES: tuple[
    tuple[type[serializers.Field[Any, Any, Any, Any]], tuple[type, ...], tuple[type, ...]], ...
] = (
    # (field class, accepted Python types of the parsed JSON, refused subtypes)
    (serializers.CharField, (str,), ()),
    (serializers.BooleanField, (bool,), ()),
    (serializers.IntegerField, (int, float), (bool,)),
)


def refuse_other_json_types(serializer: serializers.Serializer[Any], data: object) -> None:
    """A top-level value of another JSON type than the field's is a 400 with
    the field's own (documented) ``invalid`` code (a nested serializer calls
    it for its own fields)."""
    if not isinstance(data, Mapping):
        return
    errors: dict[str, list[serializers.ErrorDetail]] = {}
    for name, field in serializer.fields.items():
        value = data.get(name)
        if field.read_only or value is None:
            continue  # null is the field's own business (allow_null)
        for field_class, accepted, refused in _JSON_TYPES:
            if isinstance(field, field_class):
                if not isinstance(value, accepted) or isinstance(value, refused):
                    # ErrorDetail is a str built from the (possibly lazy) message.
                    errors[name] = [serializers.ErrorDetail(field.error_messages["invalid"], code="invalid")]  # type: ignore[arg-type]
                break
    if errors:
        raise serializers.ValidationError(errors)


# DRF's own datetime rendering (ISO 8601 in the current time zone, "Z" for
# UTC), for the representations built by hand (events, registrations, scan
# results); it keeps no state per call.
render_datetime = serializers.DateTimeField().to_representation
