from django.contrib import admin, messages

from eventmaster.admin import OrganizerScopedAdmin
from registrations.models import Registration

from .models import Scan
from .services import checkin_scan, checkin_undo


@admin.register(Scan)
class ScanAdmin(OrganizerScopedAdmin):
    """The scan log, read-only: it is an audit trail."""

    organizer_lookup = "event__organizer"
    list_display = ("created_at", "event", "result", "action", "ticket_code", "by", "scanned_at")
    list_filter = ("result", "action", ("event", admin.RelatedOnlyFieldListFilter))
    search_fields = ("ticket_code", "registration__user__email")
    list_select_related = ("event", "by")
    ordering = ("-created_at",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# The door's actions on the registrations' admin: this app extends the lower
# app's admin (registrations never imports check-in). Registered after it:
# INSTALLED_APPS lists checkin after registrations.


def _scan_each(modeladmin, request, queryset, service) -> None:
    results: dict[str, int] = {}
    for registration in queryset.select_related("event"):
        outcome = service(ticket_code=registration.ticket_code, event=registration.event, by=request.user)
        results[outcome.result] = results.get(outcome.result, 0) + 1
    summary = ", ".join(f"{count} {result.replace('_', ' ')}" for result, count in sorted(results.items()))
    modeladmin.message_user(request, f"Scan results: {summary}.", messages.INFO)


@admin.action(description="Check selected attendees in", permissions=("change",))
def check_in(modeladmin, request, queryset):
    _scan_each(modeladmin, request, queryset, checkin_scan)


@admin.action(description="Undo the check-in of selected attendees", permissions=("change",))
def undo_check_in(modeladmin, request, queryset):
    _scan_each(modeladmin, request, queryset, checkin_undo)


_registrations = admin.site.get_model_admin(Registration)
_registrations.actions = (*_registrations.actions, check_in, undo_check_in)
