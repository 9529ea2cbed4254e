"""Shared django-filter pieces."""

import django_filters


class StrictBooleanFilter(django_filters.TypedChoiceFilter):
    """``true`` or ``false``; anything else is a 400, not silently ignored
    (django-filter's BooleanFilter drops values it cannot read)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", (("true", "true"), ("false", "false")))
        kwargs.setdefault("coerce", lambda value: value == "true")
        super().__init__(*args, **kwargs)
