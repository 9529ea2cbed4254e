from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse

from accounts.authentication import signed_in_user
from eventmaster.admin import OrganizerScopedAdmin
from eventmaster.errors import DomainError
from events.models import Event
from events.rules import MANAGE_EVENT

from . import mails
from .models import Mail, Registration
from .selectors import registration_export_rows
from .services import registration_cancel
from .tickets import attendee_csv_lines


class CheckedInFilter(admin.SimpleListFilter):
    title = "checked in"
    parameter_name = "checked_in"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> tuple[tuple[str, str], ...]:
        return (("yes", "Yes"), ("no", "No"))

    def queryset(self, request: HttpRequest, queryset: QuerySet[Registration]) -> QuerySet[Registration]:
        if self.value() in ("yes", "no"):
            return queryset.filter(checked_in_at__isnull=self.value() == "no")
        return queryset


class EventFilter(admin.SimpleListFilter):
    """By event, among the caller's events (the 50 next or latest): listed
    from the events, not from a DISTINCT over their registrations. Always
    applied when asked for (Django drops a filter that would show a single
    choice, and with it its parameter, so the list of the one event with
    registrations showed for another event's link)."""

    title = "event"
    parameter_name = "event__id__exact"  # the events' admin links use it

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        events = MANAGE_EVENT.filter(Event.objects.all(), request.user).order_by("-start_at")[:50]
        return [(str(pk), title) for pk, title in events.values_list("pk", "title")]

    def has_output(self) -> bool:
        return True

    def queryset(self, request: HttpRequest, queryset: QuerySet[Registration]) -> QuerySet[Registration]:
        value = self.value()
        if not value:
            return queryset
        try:
            return queryset.filter(event_id=uuid.UUID(value))
        except ValueError:
            return queryset.none()


@admin.register(Registration)
class RegistrationAdmin(OrganizerScopedAdmin):
    """Read-only: every change goes through an action, and every action
    through the services (capacity, waitlist promotion, scan log, mails)."""

    scope_rule = MANAGE_EVENT
    scope_prefix = "event__"
    list_display = ("user", "event", "status", "created_at", "checked_in_at", "cancel_reason")
    # RelatedOnlyFieldListFilter lists only events present in the scoped rows.
    list_filter = ("status", CheckedInFilter, EventFilter)
    search_fields = ("user__email", "user__full_name")
    list_select_related = ("user", "event")
    ordering = ("-created_at",)
    # No second COUNT over all the rows an organizer may see (100,000 and more).
    show_full_result_count = False
    # The check-in app adds its actions (check in, undo): checkin/admin.py.
    actions = ("cancel_registrations",)
    readonly_fields = (
        "event", "user", "status", "created_at", "cancelled_at", "cancel_reason", "checked_in_at", "checked_in_by",
    )  # fmt: skip
    fields = readonly_fields
    exclude = ("ticket_code",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # attendees register themselves (or via the API)

    def has_delete_permission(self, request: HttpRequest, obj: Registration | None = None) -> bool:
        return False  # cancel instead: nothing is silently destroyed

    @admin.action(description="Cancel selected registrations", permissions=("change",))
    def cancel_registrations(self, request: HttpRequest, queryset: QuerySet[Registration]) -> None:
        by = signed_in_user(request)
        self._each(request, queryset, lambda r: registration_cancel(registration=r, by=by), "cancelled")

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[Registration],
        action: Callable[[Registration], object],
        verb: str,
    ) -> None:
        done = 0
        for registration in queryset:
            try:
                action(registration)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{registration.user}: {exc.detail}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} registration(s) {verb}.", messages.SUCCESS)


# The attendee export on the events' admin: this app extends the lower app's
# admin (events never imports registrations). Registered after it:
# INSTALLED_APPS lists registrations after events.


@admin.action(description="Export attendees of the selected event (CSV)", permissions=("view",))
def export_attendees(
    modeladmin: admin.ModelAdmin[Event], request: HttpRequest, queryset: QuerySet[Event]
) -> StreamingHttpResponse | None:
    if queryset.count() != 1:
        modeladmin.message_user(request, "Select exactly one event to export.", messages.WARNING)
        return None
    event = queryset.get()
    response = StreamingHttpResponse(
        attendee_csv_lines(registration_export_rows(event=event)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="attendees-{event.pk}.csv"'
    return response


_events = admin.site.get_model_admin(Event)
_events.actions = (
    *(_events.actions or ()),
    export_attendees,
)  # None only in the hints: EventAdmin sets a tuple


@admin.register(Mail)
class MailAdmin(OrganizerScopedAdmin):
    """The attendee mails of the caller's events, and how each went: a failed
    one is an attendee who has not heard from us. Read-only; admins may send
    failed mails again (as ``retry_mails`` does)."""

    scope_rule = MANAGE_EVENT
    scope_prefix = "registration__event__"
    list_display = ("recipient", "event", "kind", "status", "attempts", "next_attempt_at", "sent_at", "error")
    list_filter = ("status", "kind")
    search_fields = ("registration__user__email",)
    list_select_related = ("registration__user", "registration__event")
    ordering = ("-created_at",)
    show_full_result_count = False
    actions = ("send_again",)
    fields = readonly_fields = (
        "registration", "kind", "status", "created_at", "attempts", "next_attempt_at", "give_up_at", "sent_at",
        "last_error",
    )  # fmt: skip
    raw_id_fields = ("registration",)

    @admin.display(ordering="registration__user__email")
    def recipient(self, mail: Mail) -> str:
        return mail.registration.user.email

    @admin.display(ordering="registration__event__start_at")
    def event(self, mail: Mail) -> str:
        return mail.registration.event.title

    @admin.display(description="last error")
    def error(self, mail: Mail) -> str:
        return mail.last_error[:120]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Mail | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Mail | None = None) -> bool:
        return False  # nothing to edit; the action checks its own permission

    def has_send_again_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("registrations.change_mail")

    @admin.action(description="Send the selected failed mails again", permissions=("send_again",))
    def send_again(self, request: HttpRequest, queryset: QuerySet[Mail]) -> None:
        ids = list(queryset.filter(status=Mail.Status.FAILED).values_list("pk", flat=True)[:10_000])
        count = mails.retry_failed(ids=ids)
        self.message_user(request, f"{count} failed mail(s) queued to be sent again.", messages.SUCCESS)
