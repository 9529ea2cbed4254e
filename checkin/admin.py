from django.contrib import admin

from eventmaster.admin import OrganizerScopedAdmin

from .models import Scan


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
