import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone

from eventmaster.api.filters import StrictBooleanFilter

from .models import Registration


class MyRegistrationFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Registration.Status.choices)
    upcoming = StrictBooleanFilter(
        method="filter_upcoming", help_text="true: events not started yet; false: the others."
    )

    class Meta:
        model = Registration
        fields = ("status", "upcoming")

    def filter_upcoming(
        self, queryset: QuerySet[Registration], name: str, value: bool
    ) -> QuerySet[Registration]:
        now = timezone.now()
        return (
            queryset.filter(event__start_at__gte=now) if value else queryset.filter(event__start_at__lt=now)
        )


class AttendeeFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Registration.Status.choices)
    checked_in = StrictBooleanFilter(field_name="checked_in_at", lookup_expr="isnull", exclude=True)
    q = django_filters.CharFilter(
        method="filter_q", max_length=200, help_text="Part of the attendee's name or e-mail."
    )

    class Meta:
        model = Registration
        fields = ("status", "checked_in", "q")

    def filter_q(self, queryset: QuerySet[Registration], name: str, value: str) -> QuerySet[Registration]:
        return queryset.filter(Q(user__full_name__icontains=value) | Q(user__email__icontains=value))
