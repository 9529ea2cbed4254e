from typing import Any

import django_filters
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from eventmaster.api.filters import OffsetIsoDateTimeFilter, StrictBooleanFilter

from .models import Event


class TieBreakingOrderingFilter(django_filters.OrderingFilter):
    """Orderings end with the primary key, so pages never overlap."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value in ([], (), {}, "", None):
            return qs
        return qs.order_by(*(self.get_ordering_value(param) for param in value), "id")


class EventFilterSet(django_filters.FilterSet):
    """The public list's filters (docs/api.md, GET /events)."""

    q = django_filters.CharFilter(
        method="filter_q", max_length=200, help_text="Part of the title, description or location."
    )
    starts_after = OffsetIsoDateTimeFilter(field_name="start_at", lookup_expr="gte")
    starts_before = OffsetIsoDateTimeFilter(field_name="start_at", lookup_expr="lte")
    organizer = django_filters.UUIDFilter(field_name="organizer_id")
    available = StrictBooleanFilter(method="filter_available", help_text="true: has free seats; false: full.")
    include_past = StrictBooleanFilter(
        method="filter_include_past", help_text="Include events that already started."
    )
    ordering = TieBreakingOrderingFilter(fields=("start_at", "title", "created_at"))

    class Meta:
        model = Event
        fields: tuple[str, ...] = (
            "q",
            "starts_after",
            "starts_before",
            "organizer",
            "available",
            "include_past",
            "ordering",
        )

    def filter_q(self, queryset: QuerySet[Event], name: str, value: str) -> QuerySet[Event]:
        return queryset.filter(
            Q(title__icontains=value) | Q(description__icontains=value) | Q(location__icontains=value)
        )

    def filter_available(self, queryset: QuerySet[Event], name: str, value: bool) -> QuerySet[Event]:
        # Event.is_full, on the counter column.
        seats_left = Q(confirmed_count__lt=F("capacity"))
        return queryset.filter(seats_left if value else ~seats_left)

    def filter_include_past(self, queryset: QuerySet[Event], name: str, value: bool) -> QuerySet[Event]:
        return queryset  # applied in filter_queryset, where its default is known

    # The public list hides events that already started unless asked.
    include_past_by_default = False

    def filter_queryset(self, queryset: QuerySet[Event]) -> QuerySet[Event]:
        queryset = super().filter_queryset(queryset)
        include_past = self.form.cleaned_data.get("include_past")
        if include_past is None:
            include_past = self.include_past_by_default
        return queryset if include_past else queryset.filter(start_at__gte=timezone.now())

    @classmethod
    def requested(cls, params: Any) -> bool:
        """Whether the query string names any of these filters."""
        return any(name in params for name in cls.base_filters)

    @classmethod
    def unfiltered(cls, queryset: QuerySet[Event]) -> QuerySet[Event]:
        """What filter_queryset gives when no filter is asked for, without
        building the filter form (a third of the SPA home page's CPU time:
        the list without parameters)."""
        return queryset if cls.include_past_by_default else queryset.filter(start_at__gte=timezone.now())


class ManagedEventFilterSet(EventFilterSet):
    """GET /events/managed: the same filters plus ``status``; past events are
    included unless ``include_past=false``."""

    status = django_filters.ChoiceFilter(choices=Event.Status.choices)
    include_past_by_default = True

    class Meta(EventFilterSet.Meta):
        fields = (*EventFilterSet.Meta.fields, "status")
