"""The organizer's back office: admin classes whose rows are scoped to the
caller (admins see everything)."""

from django.contrib import admin
from django.http import Http404

from eventmaster.roles import is_admin


class OrganizerScopedAdmin(admin.ModelAdmin):
    """Rows are limited to ``scope(request, queryset)``; an object outside it
    is a 404 (Django's default would redirect with a message naming the
    object type and id), so a typed URL leaks nothing."""

    organizer_lookup = "organizer"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_admin(request.user):
            return queryset
        return queryset.filter(**{self.organizer_lookup: request.user})

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such object.")
        return obj
