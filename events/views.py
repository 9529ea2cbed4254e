from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import signed_in_user
from accounts.models import User
from accounts.serializers import UserSerializer
from eventmaster import public_cache
from eventmaster.api.errors import ServiceUnavailableError
from eventmaster.api.negotiation import FileResponseNegotiation
from eventmaster.api.permissions import RuleAccess
from eventmaster.api.schema import error_responses
from eventmaster.api.serializers import validate_input
from eventmaster.converters import UUID_CONVERTER
from eventmaster.models import AuditEntry
from eventmaster.rules import ANYONE

from . import services, webhooks
from .calendar import event_to_ical
from .errors import (
    CapacityBelowRegistrationsError,
    EventAlreadyCancelledError,
    EventHasRegistrationsError,
    InvalidStatusError,
    NotCheckinStaffError,
)
from .filters import EventFilterSet, ManagedEventFilterSet
from .models import Event, WebhookDelivery, WebhookEndpoint
from .rules import CREATE_EVENT, HAS_DOORS, MANAGE_EVENT, MANAGE_WEBHOOK, VIEW_EVENT
from .selectors import (
    event_audit_list,
    event_get_visible,
    event_list_managed,
    event_list_public,
    event_list_visible,
    event_staff_list,
    webhook_delivery_list,
    webhook_endpoint_list,
)
from .serializers import (
    AuditEntrySerializer,
    EventCreateInputSerializer,
    EventSerializer,
    EventUpdateInputSerializer,
    StaffAssignInputSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointInputSerializer,
    WebhookEndpointSecretSerializer,
    WebhookEndpointSerializer,
)

TAGS = ["events"]


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="Published events (no token needed)"),
    retrieve=extend_schema(tags=TAGS, summary="One event (drafts only for their organizer, admins, staff)"),
    create=extend_schema(
        tags=TAGS,
        request=EventCreateInputSerializer,
        responses={201: EventSerializer},
        summary="Create an event (organizer, admin); the caller is its organizer",
    ),
    partial_update=extend_schema(
        tags=TAGS,
        request=EventUpdateInputSerializer,
        responses={200: EventSerializer, **error_responses(CapacityBelowRegistrationsError)},
        summary="Edit an event (its organizer, admin)",
    ),
    destroy=extend_schema(
        tags=TAGS,
        responses={204: None, **error_responses(EventHasRegistrationsError)},
        summary="Delete an event without registrations",
    ),
)
@extend_validation_errors(["end_before_start"], field_name="end_at", actions=["create", "partial_update"])
@extend_validation_errors(["blank"], field_name="title", actions=["create", "partial_update"])
class EventViewSet(RuleAccess, viewsets.GenericViewSet):
    serializer_class = EventSerializer
    lookup_value_converter = UUID_CONVERTER
    http_method_names = ("get", "post", "patch", "delete", "head", "options")

    scope_rule = VIEW_EVENT
    access = {
        "list": ANYONE,
        "retrieve": VIEW_EVENT,
        "calendar": VIEW_EVENT,
        "create": CREATE_EVENT,
        "managed": HAS_DOORS,
        "partial_update": MANAGE_EVENT,
        "destroy": MANAGE_EVENT,
        "publish": MANAGE_EVENT,
        "cancel": MANAGE_EVENT,
    }

    def get_queryset(self) -> QuerySet[Event]:
        if self.action == "list":
            return event_list_public()
        if self.action == "managed":
            return event_list_managed(user=self.request.user)
        return event_list_visible(user=self.request.user)

    @property
    def filterset_class(self) -> type[EventFilterSet] | None:
        return {"list": EventFilterSet, "managed": ManagedEventFilterSet}.get(self.action)

    def filter_queryset(self, queryset: QuerySet[Any, Any]) -> QuerySet[Any, Any]:
        filterset_class = self.filterset_class
        if filterset_class is not None and not filterset_class.requested(self.request.query_params):
            return filterset_class.unfiltered(queryset)
        return super().filter_queryset(queryset)

    def _page(self) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(EventSerializer(page, many=True).data)

    def _write(self, write: Callable[[], Event], status_code: int = status.HTTP_200_OK) -> Response:
        """Run the service ``write`` and read the event back through the
        selector (for its counts) in one transaction: the answer of a write
        that committed needs no trip to the database after the commit, and a
        read that fails rolls the write back (a 503 the client may retry)."""
        with transaction.atomic():
            event = write()
            data = EventSerializer(event_list_visible(user=self.request.user).get(pk=event.pk)).data
        return Response(data, status=status_code)

    def list(self, request: Request) -> HttpResponseBase:
        return self._public(request, (services.PUBLIC_LIST,), self._page)

    @extend_schema(
        tags=TAGS,
        # A page of events: many=True gives it the list's pagination and filters.
        responses={200: EventSerializer(many=True)},
        summary="Events the caller organizes, administers or staffs",
    )
    @action(detail=False)
    def managed(self, request: Request) -> Response:
        return self._page()

    def retrieve(self, request: Request, pk: UUID | None = None) -> HttpResponseBase:
        return self._public(
            request,
            (services.public_detail(pk),),
            lambda: Response(EventSerializer(self.get_object()).data),
        )

    def _public(
        self, request: Request, namespaces: tuple[str, ...], respond: Callable[[], Response]
    ) -> HttpResponseBase:
        """Anonymous callers get the shared cached page with an ETag
        (eventmaster.public_cache); signed-in ones an exact answer."""
        if request.user.is_authenticated:
            response = respond()
            patch_vary_headers(response, ("Authorization",))
            return response
        cached = public_cache.serve(
            request, namespaces=namespaces, render=lambda: bytes(JSONRenderer().render(respond().data))
        )
        return cached if cached is not None else respond()

    def create(self, request: Request) -> Response:
        data = validate_input(EventCreateInputSerializer, request.data)
        return self._write(
            lambda: services.event_create(organizer=signed_in_user(request), **data), status.HTTP_201_CREATED
        )

    def partial_update(self, request: Request, pk: UUID | None = None) -> Response:
        event = self.get_object()
        data = validate_input(EventUpdateInputSerializer, request.data, partial=True)
        return self._write(lambda: services.event_update(event=event, **data))

    def destroy(self, request: Request, pk: UUID | None = None) -> Response:
        services.event_delete(event=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=TAGS,
        request=None,
        responses={200: EventSerializer, **error_responses(InvalidStatusError)},
        summary="Publish a draft",
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: UUID | None = None) -> Response:
        return self._write(lambda: services.event_publish(event=self.get_object()))

    @extend_schema(
        tags=TAGS,
        request=None,
        responses={200: EventSerializer, **error_responses(EventAlreadyCancelledError)},
        summary="Cancel an event and all its registrations",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: UUID | None = None) -> Response:
        return self._write(lambda: services.event_cancel(event=self.get_object()))

    @extend_schema(
        tags=TAGS,
        responses={
            (200, "text/calendar"): OpenApiResponse(OpenApiTypes.BINARY, description="RFC 5545, one VEVENT")
        },
        summary="The event as an iCalendar file",
    )
    @action(detail=True, url_path="calendar.ics", content_negotiation_class=FileResponseNegotiation)
    def calendar(self, request: Request, pk: UUID | None = None) -> HttpResponse:
        event = self.get_object()
        response = HttpResponse(event_to_ical(event), content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="event-{event.pk}.ics"'
        return response


@extend_schema_view(
    list=extend_schema(
        tags=TAGS, responses={200: UserSerializer(many=True)}, summary="The event's door staff"
    ),
    create=extend_schema(
        tags=TAGS,
        request=StaffAssignInputSerializer,
        responses={201: UserSerializer, **error_responses(NotCheckinStaffError)},
        summary="Assign door staff (a user in the checkin group)",
    ),
    destroy=extend_schema(tags=TAGS, responses={204: None}, summary="Unassign door staff"),
)
class EventStaffViewSet(RuleAccess, viewsets.GenericViewSet):
    """An event's door staff: a resource of its own under the event. The
    event is 404 to whoever may not see it, 403 to whoever may see it but
    not manage it."""

    scope_rule = VIEW_EVENT
    access = {"list": MANAGE_EVENT, "create": MANAGE_EVENT, "destroy": MANAGE_EVENT}
    serializer_class = UserSerializer

    def get_event(self) -> Event:
        event = event_get_visible(user=self.request.user, pk=self.kwargs["event_id"])
        self.check_object_permissions(self.request, event)
        return event

    def get_queryset(self) -> QuerySet[User]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no event
            return User.objects.none()
        return event_staff_list(event=self.get_event())

    def list(self, request: Request, event_id: UUID | None = None) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(UserSerializer(page, many=True).data)

    def create(self, request: Request, event_id: UUID | None = None) -> Response:
        event = self.get_event()
        user = validate_input(StaffAssignInputSerializer, request.data)["user_id"]
        services.event_staff_add(event=event, user=user)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)

    def destroy(
        self, request: Request, event_id: UUID | None = None, user_id: UUID | None = None
    ) -> Response:
        event = self.get_event()
        user = get_object_or_404(event.staff.all(), pk=user_id)
        services.event_staff_remove(event=event, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="The event's audit trail, newest first (its organizer, admins)"),
)
class EventAuditViewSet(RuleAccess, viewsets.GenericViewSet):
    """An event's entries of the audit trail: 404 to whoever may not see
    the event, 403 to whoever may see it but not manage it."""

    scope_rule = VIEW_EVENT
    access = {"list": MANAGE_EVENT}
    serializer_class = AuditEntrySerializer

    def get_queryset(self) -> QuerySet[AuditEntry]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no event
            return AuditEntry.objects.none()
        event = event_get_visible(user=self.request.user, pk=self.kwargs["event_id"])
        self.check_object_permissions(self.request, event)
        return event_audit_list(event=event)

    def list(self, request: Request, event_id: UUID | None = None) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(AuditEntrySerializer(page, many=True).data)


WEBHOOK_TAGS = ["webhooks"]


@extend_schema_view(
    list=extend_schema(tags=WEBHOOK_TAGS, summary="The caller's webhook endpoints (admins: all)"),
    retrieve=extend_schema(tags=WEBHOOK_TAGS, summary="One webhook endpoint"),
    create=extend_schema(
        tags=WEBHOOK_TAGS,
        request=WebhookEndpointInputSerializer,
        responses={201: WebhookEndpointSecretSerializer},
        summary="Add an endpoint (organizer, admin); the answer shows its secret, once",
    ),
    partial_update=extend_schema(
        tags=WEBHOOK_TAGS, request=WebhookEndpointInputSerializer, summary="Edit an endpoint"
    ),
    destroy=extend_schema(tags=WEBHOOK_TAGS, responses={204: None}, summary="Delete an endpoint"),
    rotate_secret=extend_schema(
        tags=WEBHOOK_TAGS,
        request=None,
        responses={200: WebhookEndpointSecretSerializer},
        summary="A new secret (shown once); the old one signs nothing more",
    ),
    ping=extend_schema(
        tags=WEBHOOK_TAGS,
        request=None,
        responses={202: WebhookDeliverySerializer},
        summary="Send a test message",
    ),
    deliveries=extend_schema(
        tags=WEBHOOK_TAGS,
        responses={200: WebhookDeliverySerializer(many=True)},
        summary="The endpoint's deliveries, newest first, with every attempt",
    ),
)
@extend_validation_errors(["unsafe_url"], field_name="url", actions=["create", "partial_update"])
@extend_validation_errors(["does_not_exist"], field_name="event", actions=["create", "partial_update"])
class WebhookViewSet(RuleAccess, viewsets.GenericViewSet):
    """Webhook endpoints: an organizer's own (404 for anyone else's)."""

    serializer_class = WebhookEndpointSerializer
    lookup_value_converter = UUID_CONVERTER
    http_method_names = ("get", "post", "patch", "delete", "head", "options")
    scope_rule = MANAGE_WEBHOOK
    access = {
        "list": CREATE_EVENT,
        "create": CREATE_EVENT,
        "retrieve": MANAGE_WEBHOOK,
        "partial_update": MANAGE_WEBHOOK,
        "destroy": MANAGE_WEBHOOK,
        "rotate_secret": MANAGE_WEBHOOK,
        "ping": MANAGE_WEBHOOK,
        "deliveries": MANAGE_WEBHOOK,
    }

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        return webhook_endpoint_list(user=self.request.user)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WebhookEndpointSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: UUID | None = None) -> Response:
        return Response(WebhookEndpointSerializer(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = validate_input(WebhookEndpointInputSerializer, request.data)
        with _lookup_unavailable():
            endpoint = services.webhook_endpoint_create(organizer=signed_in_user(request), **data)
        return Response(WebhookEndpointSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: UUID | None = None) -> Response:
        endpoint = self.get_object()
        data = validate_input(WebhookEndpointInputSerializer, request.data, partial=True)
        with _lookup_unavailable():
            endpoint = services.webhook_endpoint_update(endpoint=endpoint, **data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    def destroy(self, request: Request, pk: UUID | None = None) -> Response:
        services.webhook_endpoint_delete(endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: UUID | None = None) -> Response:
        endpoint = services.webhook_endpoint_rotate_secret(endpoint=self.get_object())
        return Response(WebhookEndpointSecretSerializer(endpoint).data)

    @action(detail=True, methods=["post"])
    def ping(self, request: Request, pk: UUID | None = None) -> Response:
        delivery = webhooks.ping(self.get_object())
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk: UUID | None = None) -> Response:
        page = self.paginate_queryset(webhook_delivery_list(endpoint=self.get_object()))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


@contextmanager
def _lookup_unavailable() -> Iterator[None]:
    """The URL's host name did not resolve in time (DNS down or slow): 503,
    retry shortly (docs/api.md, Webhooks)."""
    try:
        yield
    except webhooks.LookupTimeoutError as exc:
        raise ServiceUnavailableError(wait=5, detail=f"{exc} Retry shortly.") from exc


class WebhookDeliveryResendView(RuleAccess, APIView):
    """POST /webhooks/{id}/deliveries/{delivery_id}/resend."""

    scope_rule = MANAGE_WEBHOOK
    access = {"post": MANAGE_WEBHOOK}

    @extend_schema(
        tags=WEBHOOK_TAGS,
        request=None,
        responses={202: WebhookDeliverySerializer},
        summary="Send a delivery again (same webhook-id and body)",
    )
    def post(self, request: Request, pk: UUID, delivery_id: UUID) -> Response:
        endpoint = get_object_or_404(webhook_endpoint_list(user=request.user), pk=pk)
        self.check_object_permissions(request, endpoint)
        delivery = get_object_or_404(endpoint.deliveries.all(), pk=delivery_id)
        try:
            delivery = webhooks.resend(delivery)
        except WebhookDelivery.DoesNotExist:  # forgotten by the housekeeping meanwhile
            raise Http404() from None
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
