from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from accounts.authentication import signed_in_user
from eventmaster.admin import OrganizerScopedAdmin
from events.models import Event
from events.rules import MANAGE_EVENT
from registrations.models import Registration

from .dashboard import HEIGHT, PAD, WIDTH, arrivals_per_quarter, chart_bars
from .models import Scan
from .selectors import checkin_stats
from .services import ScanOutcome, checkin_scan, checkin_undo


@admin.register(Scan)
class ScanAdmin(OrganizerScopedAdmin):
    """The scan log, read-only: it is an audit trail."""

    scope_rule = MANAGE_EVENT
    scope_prefix = "event__"
    list_display = ("created_at", "event", "result", "action", "ticket_code", "by", "scanned_at")
    list_filter = ("result", "action", ("event", admin.RelatedOnlyFieldListFilter))
    search_fields = ("ticket_code", "registration__user__email")
    list_select_related = ("event", "by")
    ordering = ("-created_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Scan | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Scan | None = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        # An event's door dashboard; the event's admin page links to it by
        # this URL name (events does not import this app).
        dashboard = path(
            "event/<path:object_id>/dashboard/",
            self.admin_site.admin_view(self.dashboard_view),
            name="checkin_event_dashboard",
        )
        return [dashboard, *super().get_urls()]

    def dashboard_view(self, request: HttpRequest, object_id: str) -> TemplateResponse:
        events = self.admin_site.get_model_admin(Event)
        event = events.get_object(request, object_id)  # scoped: None outside the caller's events
        if event is None:
            raise Http404
        if not events.has_view_permission(request, event):
            raise PermissionDenied
        return TemplateResponse(
            request,
            "admin/checkin/dashboard.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Door: {event.title}",
                "event": event,
                "stats": checkin_stats(event=event),
                "bars": chart_bars(arrivals_per_quarter(event=event)),
                "width": WIDTH,
                "height": HEIGHT,
                "pad": PAD,
                "right": WIDTH - PAD,
                "baseline": HEIGHT - PAD,
                "opts": Event._meta,
            },
        )


# The door's actions on the registrations' admin: this app extends the lower
# app's admin (registrations never imports check-in). Registered after it:
# INSTALLED_APPS lists checkin after registrations.


def _scan_each(
    modeladmin: admin.ModelAdmin[Registration],
    request: HttpRequest,
    queryset: QuerySet[Registration],
    service: Callable[..., ScanOutcome],
) -> None:
    by = signed_in_user(request)
    results: dict[str, int] = {}
    for registration in queryset.select_related("event"):
        outcome = service(ticket_code=registration.ticket_code, event=registration.event, by=by)
        results[outcome.result] = results.get(outcome.result, 0) + 1
    summary = ", ".join(f"{count} {result.replace('_', ' ')}" for result, count in sorted(results.items()))
    modeladmin.message_user(request, f"Scan results: {summary}.", messages.INFO)


@admin.action(description="Check selected attendees in", permissions=("change",))
def check_in(
    modeladmin: admin.ModelAdmin[Registration], request: HttpRequest, queryset: QuerySet[Registration]
) -> None:
    _scan_each(modeladmin, request, queryset, checkin_scan)


@admin.action(description="Undo the check-in of selected attendees", permissions=("change",))
def undo_check_in(
    modeladmin: admin.ModelAdmin[Registration], request: HttpRequest, queryset: QuerySet[Registration]
) -> None:
    _scan_each(modeladmin, request, queryset, checkin_undo)


_registrations = admin.site.get_model_admin(Registration)
_registrations.actions = (*(_registrations.actions or ()), check_in, undo_check_in)  # None only in the hints
