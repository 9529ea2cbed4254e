from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from accounts.authentication import signed_in_user
from accounts.models import User
from eventmaster.admin import OrganizerScopedAdmin
from eventmaster.errors import DomainError
from eventmaster.models import AuditEntry
from eventmaster.roles import Role

from . import services, webhooks
from .models import Event, WebhookDelivery, WebhookEndpoint
from .rules import MANAGE_EVENT, MANAGE_WEBHOOK, VIEW_AUDIT

FORM_FIELDS = ("title", "description", "location", "start_at", "end_at", "capacity", "waitlist_enabled")


class EventAdminForm(forms.ModelForm):
    """The admin's event form: the service's validation and sanitization,
    shown as form errors (the save goes through the service as well), and
    the event's door staff, chosen among users holding the check-in role."""

    class Meta:
        model = Event
        fields = (*FORM_FIELDS, "staff")
        labels = {"staff": "Door staff"}
        help_texts = {"staff": "Who may scan tickets at this event (users with the check-in role)."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The form field of the staff ManyToManyField (fields holds them as Field).
        staff = cast("forms.ModelMultipleChoiceField[User]", self.fields["staff"])
        staff.queryset = User.objects.filter(groups__name=Role.CHECKIN).order_by("full_name", "email")
        # An instance attribute in place of the method (a lambda, no field subclass): mypy forbids it.
        staff.label_from_instance = lambda user: f"{user.full_name} <{user.email}>"  # type: ignore[method-assign, assignment]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data  # what ModelForm.clean() returns (its hint allows None)
        changes = {field: cleaned[field] for field in FORM_FIELDS if field in cleaned}
        services.event_validate(self.instance, changes)  # a ValidationError becomes form errors
        if not self.instance._state.adding and "capacity" in changes:
            try:
                services.event_check_capacity(event=self.instance, capacity=changes["capacity"])
            except DomainError as exc:
                self.add_error("capacity", str(exc.detail))
        return cleaned


class TimeFilter(admin.SimpleListFilter):
    title = "when"
    parameter_name = "when"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> tuple[tuple[str, str], ...]:
        return (("upcoming", "Upcoming"), ("past", "Past"))

    def queryset(self, request: HttpRequest, queryset: QuerySet[Event]) -> QuerySet[Event]:
        if self.value() == "upcoming":
            return queryset.filter(start_at__gte=timezone.now())
        if self.value() == "past":
            return queryset.filter(start_at__lt=timezone.now())
        return queryset


@admin.register(Event)
class EventAdmin(OrganizerScopedAdmin):
    scope_rule = MANAGE_EVENT
    form = EventAdminForm
    list_display = (
        "title",
        "status",
        "start_at",
        "capacity",
        "confirmed",
        "waitlisted",
        "organizer",
    )
    list_filter = ("status", TimeFilter)
    filter_horizontal = ("staff",)
    search_fields = ("title", "location")
    ordering = ("-start_at",)
    # The apps above add theirs: registrations the attendee export,
    # checkin the door dashboard (their admin.py).
    actions = ("publish_events", "cancel_events")

    # The counts are the event row's counter columns: no aggregate over the
    # registrations per page (check-ins are on each event's dashboard).
    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        return super().get_queryset(request).select_related("organizer")

    @admin.display(ordering="confirmed_count")
    def confirmed(self, event: Event) -> int:
        return event.confirmed_count

    @admin.display(ordering="waitlisted_count")
    def waitlisted(self, event: Event) -> int:
        return event.waitlisted_count

    def get_readonly_fields(self, request: HttpRequest, obj: Event | None = None) -> tuple[str, ...]:
        return ("status", "organizer", "registrations", "door") if obj else ()

    def get_fields(self, request: HttpRequest, obj: Event | None = None) -> tuple[str, ...]:
        if obj is None:
            return (*FORM_FIELDS, "staff")
        return (*FORM_FIELDS, "staff", "status", "organizer", "registrations", "door")

    # Links, not inlines: an event may have 100,000 registrations. The pages
    # linked are the other apps' admin pages, named by URL (no import).
    @admin.display(description="registrations")
    def registrations(self, event: Event) -> SafeString:
        changelist = reverse("admin:registrations_registration_changelist")
        return format_html(
            '{} confirmed, {} waitlisted: <a href="{}?event__id__exact={}">see the registrations</a>',
            event.confirmed_count,
            event.waitlisted_count,
            changelist,
            event.pk,
        )

    @admin.display(description="check-in dashboard")
    def door(self, event: Event) -> SafeString:
        return format_html(
            '<a href="{}">Open the check-in dashboard</a>',
            reverse("admin:checkin_event_dashboard", args=[event.pk]),
        )

    def save_model(self, request: HttpRequest, obj: Event, form: ModelForm[Event], change: bool) -> None:
        changes = {field: form.cleaned_data[field] for field in FORM_FIELDS if field in form.cleaned_data}
        if change:
            services.event_update(event=obj, **changes)
        else:
            created = services.event_create(organizer=signed_in_user(request), **changes)
            # The admin goes on with ``obj`` (log entry, redirect): make it the created event.
            obj.pk = created.pk
            obj._state.adding = False
        obj.refresh_from_db()

    def save_related(self, request: HttpRequest, form: ModelForm[Event], formsets: Any, change: bool) -> None:
        # Door staff through the services (they check the role), not form.save_m2m().
        self._save_door_staff(form.instance, set(form.cleaned_data.get("staff", ())))
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @staticmethod
    def _save_door_staff(event: Event, chosen: set[User]) -> None:
        # Only among the form's choices: someone assigned who has since lost
        # the role stays assigned (and cannot scan) until removed by the API.
        current = set(event.staff.filter(groups__name=Role.CHECKIN))
        for user in chosen - current:
            services.event_staff_add(event=event, user=user)
        for user in current - chosen:
            services.event_staff_remove(event=event, user=user)

    def has_delete_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        # Nothing with registrations is ever destroyed: cancel it instead.
        return super().has_delete_permission(request, obj) and not (obj and obj.registrations.exists())

    def delete_model(self, request: HttpRequest, obj: Event) -> None:
        services.event_delete(event=obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deletes go through the service one at a time
        return actions

    @admin.action(description="Publish selected draft events", permissions=("change",))
    def publish_events(self, request: HttpRequest, queryset: QuerySet[Event]) -> None:
        self._each(request, queryset, services.event_publish, "published")

    @admin.action(description="Cancel selected events (and all their registrations)", permissions=("change",))
    def cancel_events(self, request: HttpRequest, queryset: QuerySet[Event]) -> TemplateResponse | None:
        if request.POST.get("confirmed") != "yes":
            return TemplateResponse(
                request,
                "admin/events/event/cancel_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Cancel events?",
                    "events": queryset,
                    "action_checkbox_name": ACTION_CHECKBOX_NAME,
                    "opts": self.model._meta,
                },
            )
        self._each(request, queryset, services.event_cancel, "cancelled")
        return None

    def _each(
        self, request: HttpRequest, queryset: QuerySet[Event], service: Callable[..., object], verb: str
    ) -> None:
        done = 0
        for event in queryset:
            try:
                service(event=event)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{event.title}: {exc.detail}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} event(s) {verb}.", messages.SUCCESS)


@admin.register(AuditEntry)
class AuditEntryAdmin(OrganizerScopedAdmin):
    """The audit trail, read-only: admins see every entry, organizers those
    of their own events (events.rules.VIEW_AUDIT). Registered here, not in
    eventmaster: who may read an entry depends on its event."""

    scope_rule = VIEW_AUDIT
    list_display = (
        "seq",
        "at",
        "action",
        "actor",
        "actor_role",
        "via",
        "object_type",
        "object_id",
        "event_link",
    )
    list_filter = ("action", "via", "actor_role", "object_type")
    search_fields = ("actor", "object_id", "request_id", "=event_id")
    date_hierarchy = "at"
    ordering = ("-seq",)
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    @admin.display(description="event")
    def event_link(self, entry: AuditEntry) -> SafeString | str:
        if entry.event_id is None:
            return "-"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:events_event_change", args=[entry.event_id]), entry.event_id
        )


class WebhookEndpointForm(forms.ModelForm):
    """The destination is checked on the form (a refused one is a form
    error); saving does not look it up again."""

    url = forms.URLField(max_length=2000, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "event_types", "event", "active")

    def clean_event_types(self) -> list[str]:
        from eventmaster.audit import TYPES

        types = self.cleaned_data.get("event_types") or []
        if not isinstance(types, list) or not all(isinstance(t, str) and t in TYPES for t in types):
            raise ValidationError(
                f"A list of domain event types, among: {', '.join(sorted(TYPES))}.", code="invalid_choice"
            )
        return types

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        try:
            webhooks.check_destination(url)
        except webhooks.UnsafeDestinationError as exc:
            raise ValidationError(str(exc), code="unsafe_url") from exc
        except webhooks.LookupTimeoutError as exc:
            raise ValidationError(f"{exc} Try again in a moment.", code="lookup_timeout") from exc
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(OrganizerScopedAdmin):
    """An organizer's webhook endpoints (admins: all). The secret is shown
    by the API only, when it is made or rotated."""

    scope_rule = MANAGE_WEBHOOK
    form = WebhookEndpointForm
    list_display = ("url", "organizer", "event", "active", "failing_since", "created_at")
    list_filter = ("active",)
    search_fields = ("url",)
    fields = ("url", "event_types", "event", "active", "failing_since", "disabled_reason")
    readonly_fields = ("failing_since", "disabled_reason")
    actions = ("send_ping",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookEndpoint]:
        return super().get_queryset(request).select_related("organizer", "event")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "event":  # only events the caller runs
            kwargs["queryset"] = MANAGE_EVENT.filter(Event.objects.all(), request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: ModelForm[WebhookEndpoint], change: bool
    ) -> None:
        changes = {
            field: form.cleaned_data[field]
            for field in ("url", "event_types", "event", "active")
            if field in form.cleaned_data
        }
        # The form's clean_url has just checked the URL (a form error if it
        # failed): not a second lookup, which could fail where no form error
        # can be shown any more.
        if change:
            services.webhook_endpoint_update(endpoint=obj, url_checked=True, **changes)
        else:
            created = services.webhook_endpoint_create(
                organizer=signed_in_user(request), url_checked=True, **changes
            )
            obj.pk, obj._state.adding = created.pk, False

    @admin.action(description="Send a test message (ping)", permissions=("change",))
    def send_ping(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            webhooks.ping(endpoint)
        self.message_user(request, f"{queryset.count()} ping(s) queued.", messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(OrganizerScopedAdmin):
    """Every delivery with its attempts, read-only; failed ones can be resent."""

    scope_rule = MANAGE_WEBHOOK
    scope_prefix = "endpoint__"
    list_display = ("created_at", "type", "endpoint", "status", "attempts", "delivered_at")
    list_filter = ("status", "type")
    readonly_fields = ("endpoint", "type", "status", "attempts", "created_at", "next_attempt_at", "delivered_at",
                       "payload", "attempts_made")  # fmt: skip
    fields = readonly_fields
    actions = ("resend",)
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookDelivery]:
        return super().get_queryset(request).select_related("endpoint")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: WebhookDelivery | None = None) -> bool:
        return False

    @admin.display(description="attempts made")
    def attempts_made(self, delivery: WebhookDelivery) -> str:
        return (
            "\n".join(
                f"{a.at:%Y-%m-%d %H:%M:%S} {a.status_code or a.error} ({a.duration_ms} ms) {a.response_excerpt[:80]}"
                for a in delivery.attempt_log.all()
            )
            or "-"
        )

    @admin.action(description="Send again (same webhook-id and body)", permissions=("change",))
    def resend(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        resent = 0
        for delivery in queryset:
            with contextlib.suppress(WebhookDelivery.DoesNotExist):  # forgotten meanwhile
                webhooks.resend(delivery)
                resent += 1
        self.message_user(request, f"{resent} delivery(ies) queued again.", messages.SUCCESS)
