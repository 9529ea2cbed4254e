import django_filters
from django.db.models import Q, QuerySet

from eventmaster.api.filters import StrictBooleanFilter
from eventmaster.roles import Role

from .models import User


class UserFilterSet(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices, method="filter_role")
    q = django_filters.CharFilter(
        method="filter_q", max_length=200, help_text="Part of the e-mail address or name."
    )
    is_active = StrictBooleanFilter()

    def filter_role(self, queryset: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        condition = Q(**{f"has_role_{value}": True})
        if value == Role.ADMIN:
            condition |= Q(is_superuser=True)
        return queryset.filter(condition)

    def filter_q(self, queryset: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        return queryset.filter(Q(email__icontains=value) | Q(full_name__icontains=value))

    class Meta:
        model = User
        fields = ("role", "q", "is_active")
