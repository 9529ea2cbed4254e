"""Every input field for a UUID or a timestamp, in every app, is one of the
shared strict classes (eventmaster/api): UUIDs are strings only, and a
date-time without a UTC offset is a 400, in bodies and in query filters."""

import importlib
import inspect

import django_filters
import pytest
from django.apps import apps
from rest_framework import serializers

from eventmaster.api.filters import OffsetIsoDateTimeFilter
from eventmaster.api.serializers import OffsetDateTimeField, StrictUUIDField

OUR_APPS = ("accounts", "events", "registrations", "checkin")


def classes_in(module_name: str, base: type) -> list[type]:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        return []
    return [
        c
        for _, c in inspect.getmembers(module, inspect.isclass)
        if issubclass(c, base) and c.__module__ == module_name
    ]


def writable_fields(serializer: serializers.Serializer, prefix: str = ""):
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        if isinstance(field, serializers.ListSerializer):
            field = field.child
        if isinstance(field, serializers.Serializer):
            yield from writable_fields(field, f"{prefix}{name}.")
        elif isinstance(field, serializers.ListField):
            yield f"{prefix}{name}[]", field.child
        elif isinstance(field, serializers.ManyRelatedField):
            yield f"{prefix}{name}[]", field.child_relation
        else:
            yield f"{prefix}{name}", field


def test_the_apps_are_all_there():
    assert {a.label for a in apps.get_app_configs()} >= set(OUR_APPS)


def test_every_writable_uuid_and_datetime_field_is_strict():
    seen, loose = 0, []
    for app in OUR_APPS:
        # Input serializers by name (<Entity><Verb>InputSerializer);
        # output ones only render.
        inputs = [
            c
            for c in classes_in(f"{app}.serializers", serializers.Serializer)
            if c.__name__.endswith("InputSerializer")
        ]
        for cls in inputs:
            for name, field in writable_fields(cls()):
                where = f"{cls.__module__}.{cls.__name__}.{name}"
                if isinstance(field, serializers.PrimaryKeyRelatedField):
                    model_pk = field.get_queryset().model._meta.pk
                    if model_pk.get_internal_type() == "UUIDField":
                        seen += 1
                        if not isinstance(field.pk_field, StrictUUIDField):
                            loose.append(where)
                elif isinstance(field, serializers.UUIDField):
                    seen += 1
                    if not isinstance(field, StrictUUIDField):
                        loose.append(where)
                elif isinstance(field, serializers.DateTimeField):
                    seen += 1
                    if not isinstance(field, OffsetDateTimeField):
                        loose.append(where)
    assert not loose, loose
    assert seen >= 6  # event_id x2, nonce, scanned_at, start_at, end_at, user_id: the walk finds them


def test_every_datetime_filter_needs_an_offset():
    seen, loose = 0, []
    for app in OUR_APPS:
        for cls in classes_in(f"{app}.filters", django_filters.FilterSet):
            for name, query_filter in cls.base_filters.items():
                if isinstance(query_filter, django_filters.DateTimeFilter | django_filters.IsoDateTimeFilter):
                    seen += 1
                    if not isinstance(query_filter, OffsetIsoDateTimeFilter):
                        loose.append(f"{cls.__name__}.{name}")
    assert not loose, loose
    assert seen >= 4  # starts_after and starts_before on both event lists


@pytest.mark.parametrize("value", [True, False, 1, 0, 2**128 - 1, 1.0, [], {}])
def test_strict_uuid_field_refuses_non_strings(value):
    with pytest.raises(serializers.ValidationError) as error:
        StrictUUIDField().run_validation(value)
    assert error.value.detail[0].code == "invalid"


@pytest.mark.parametrize(
    "value", ["2027-05-01T18:00:00", "2027-05-01T18:00", "2027-05-01 18:00:00.123456", "2027-05-01T18"]
)
def test_offset_datetime_field_refuses_naive_datetimes(value):
    with pytest.raises(serializers.ValidationError) as error:
        OffsetDateTimeField().run_validation(value)
    assert error.value.detail[0].code == "invalid"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2027-05-01T18:00:00Z", "2027-05-01T18:00:00+00:00"),
        ("2027-05-01T20:00:00+02:00", "2027-05-01T18:00:00+00:00"),
        ("2027-05-01T18:00:00-00:00", "2027-05-01T18:00:00+00:00"),
        ("2027-05-01", "2027-05-01T00:00:00+00:00"),
    ],
)
def test_offset_datetime_field_reads_offsets_and_dates_as_utc(value, expected):
    assert OffsetDateTimeField().run_validation(value).isoformat() == expected
