"""The organizer's back office: admin classes whose rows are scoped to the
caller (admins see everything)."""

from django.contrib import admin
from django.http import Http404

from eventmaster.rules import Rule


class OrganizerScopedAdmin(admin.ModelAdmin):
    """Rows are limited to the rows ``scope_rule`` gives the caller (reached
    through ``scope_prefix``, e.g. "event__" for a registration's event); an
    object outside it is a 404 (Django's default would redirect with a
    message naming the object type and id), so a typed URL leaks nothing."""

    scope_rule: Rule
    scope_prefix = ""

    def get_queryset(self, request):
        return self.scope_rule.filter(super().get_queryset(request), request.user, self.scope_prefix)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such object.")
        return obj
