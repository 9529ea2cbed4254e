"""The organizer's back office: admin classes whose rows are scoped to the
caller (admins see everything)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from eventmaster.rules import Rule
from eventmaster.tasks import queue_state

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]
else:  # ModelAdmin is not subscriptable at run time
    _ModelAdmin = admin.ModelAdmin


class OrganizerScopedAdmin(_ModelAdmin):
    """Rows are limited to the rows ``scope_rule`` gives the caller (reached
    through ``scope_prefix``, e.g. "event__" for a registration's event); an
    object outside it is a 404 (Django's default would redirect with a
    message naming the object type and id), so a typed URL leaks nothing."""

    scope_rule: Rule
    scope_prefix = ""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return self.scope_rule.filter(super().get_queryset(request), request.user, self.scope_prefix)

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Model:
        obj: Model | None = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such object.")
        return obj


class TaskQueueAdmin(DBTaskResultAdmin):
    """django-tasks-db's list of tasks, headed by the queue's state (waiting,
    scheduled, running, failed, the oldest waiting task's age, live
    workers): the page operations watch."""

    list_select_related = ()
    show_full_result_count = False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        return super().changelist_view(request, {**(extra_context or {}), "queue": queue_state()})


admin.site.unregister(DBTaskResult)
admin.site.register(DBTaskResult, TaskQueueAdmin)
