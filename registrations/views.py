import re
from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import generics, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import signed_in_user
from eventmaster.api.negotiation import FileResponseNegotiation
from eventmaster.api.permissions import RuleAccess
from eventmaster.api.schema import error_responses
from eventmaster.converters import UUID_CONVERTER
from eventmaster.rules import SIGNED_IN
from events.models import Event
from events.rules import MANAGE_EVENT, RUN_DOOR, VIEW_EVENT
from events.selectors import event_get_visible

from . import services, signing
from .errors import (
    AlreadyCancelledError,
    AlreadyCheckedInError,
    AlreadyRegisteredError,
    EventFullError,
    IdempotencyKeyReusedError,
    RegistrationClosedError,
    TicketNotConfirmedError,
)
from .filters import AttendeeFilterSet, MyRegistrationFilterSet
from .models import Registration
from .rules import MANAGE_REGISTRATION, VIEW_REGISTRATION
from .selectors import (
    registration_export_rows,
    registration_list_for_event,
    registration_list_mine,
    registration_list_visible,
)
from .serializers import RegistrationSerializer
from .tickets import attendee_csv_lines, ticket_qr

TAGS = ["registrations"]


def _render(request: Request, registration: Registration) -> dict:
    # The services return a registration with everything its representation
    # reads (event, user, waitlist position), loaded inside the transaction:
    # a write that committed is never answered with a 500 because a second
    # trip to the database failed.
    return RegistrationSerializer(registration, context={"request": request}).data


# Idempotency-Key (docs/api.md, Conventions): 1-255 printable ASCII characters;
# HTTP strips a header value's outer spaces, so the first and last are not
# spaces.
_IDEMPOTENCY_KEY_PATTERN = "[!-~](?:[ -~]{0,253}[!-~])?"
_IDEMPOTENCY_KEY = re.compile(_IDEMPOTENCY_KEY_PATTERN)

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": f"^{_IDEMPOTENCY_KEY_PATTERN}$"},
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Makes a retry safe: the same key by the same user returns the original status and body; "
        "the same key for another event is a 422 (kept at least 24 hours)."
    ),
)


@extend_validation_errors(["invalid"], field_name="Idempotency-Key", methods=["post"])
class EventRegistrationView(RuleAccess, APIView):
    scope_rule = VIEW_EVENT
    access = {"post": SIGNED_IN}

    @extend_schema(
        tags=TAGS,
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: RegistrationSerializer,
            **error_responses(
                EventFullError, AlreadyRegisteredError, RegistrationClosedError, IdempotencyKeyReusedError
            ),
        },
        summary="Register the caller (confirmed, or waitlisted when full)",
    )
    def post(self, request: Request, event_id: UUID) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key is not None and not _IDEMPOTENCY_KEY.fullmatch(key):
            raise ValidationError(
                {"Idempotency-Key": ["Must be 1-255 printable ASCII characters."]}, code="invalid"
            )
        user = signed_in_user(request)
        # No read of the event here: the service reads it once, locked, and
        # answers 404 for one the caller may not see.
        if key is None:
            registration = services.registration_sign_up(event_id=event_id, user=user)
            return Response(_render(request, registration), status=status.HTTP_201_CREATED)
        status_code, body = services.registration_create_once(
            event_id=event_id,
            user=user,
            key=key,
            scope=f"POST /events/{event_id}/registrations",
            render=lambda registration: _render(request, registration),
        )
        return Response(body, status=status_code)


@extend_schema_view(get=extend_schema(tags=TAGS, summary="The caller's registrations, newest first"))
class MyRegistrationListView(RuleAccess, generics.ListAPIView):
    access = {"get": SIGNED_IN}
    serializer_class = RegistrationSerializer
    filterset_class = MyRegistrationFilterSet

    def get_queryset(self) -> QuerySet[Registration]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return Registration.objects.none()
        return registration_list_mine(user=signed_in_user(self.request))


class _EventDoorMixin(RuleAccess):
    """Nested under an event: 404 when the caller may not see the event
    (the scope), 403 when they see it but the action's rule refuses them."""

    scope_rule = VIEW_EVENT

    def get_event(self) -> Event:
        event = event_get_visible(user=self.request.user, pk=self.kwargs["event_id"])
        self.check_object_permissions(self.request, event)
        return event


@extend_schema_view(
    get=extend_schema(tags=TAGS, summary="An event's attendees (organizer, admin, door staff)")
)
class EventAttendeeListView(_EventDoorMixin, generics.ListAPIView):
    access = {"get": RUN_DOOR}
    serializer_class = RegistrationSerializer
    filterset_class = AttendeeFilterSet

    def get_queryset(self) -> QuerySet[Registration]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no event
            return Registration.objects.none()
        return registration_list_for_event(event=self.get_event())


class EventAttendeeCsvView(_EventDoorMixin, APIView):
    access = {"get": MANAGE_EVENT}
    content_negotiation_class = FileResponseNegotiation

    @extend_schema(
        tags=TAGS,
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="All registrations, streamed")
        },
        summary="All registrations of an event as CSV (organizer, admin)",
    )
    def get(self, request: Request, event_id: UUID) -> StreamingHttpResponse:
        event = self.get_event()
        response = StreamingHttpResponse(
            attendee_csv_lines(registration_export_rows(event=event)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="attendees-{event.pk}.csv"'
        return response


def _qr_schema(media_type: str) -> Callable[[Any], Any]:
    return extend_schema(
        tags=TAGS,
        responses={
            (200, media_type): OpenApiResponse(
                OpenApiTypes.BINARY, description="QR code of the signed ticket (docs/api.md, Signed tickets)"
            ),
            **error_responses(TicketNotConfirmedError),
        },
        summary=f"The ticket's QR code ({media_type})",
    )


@extend_schema_view(retrieve=extend_schema(tags=TAGS, summary="One registration"))
class RegistrationViewSet(RuleAccess, viewsets.GenericViewSet):
    serializer_class = RegistrationSerializer
    lookup_value_converter = UUID_CONVERTER

    scope_rule = VIEW_REGISTRATION
    access = {
        "retrieve": VIEW_REGISTRATION,
        "cancel": MANAGE_REGISTRATION,
        "qr_svg": MANAGE_REGISTRATION,
        "qr_png": MANAGE_REGISTRATION,
    }

    def get_queryset(self) -> QuerySet[Registration]:
        return registration_list_visible(user=self.request.user)

    def retrieve(self, request: Request, pk: UUID | None = None) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        tags=TAGS,
        request=None,
        responses={
            200: RegistrationSerializer,
            **error_responses(AlreadyCancelledError, AlreadyCheckedInError),
        },
        summary="Cancel a registration (the oldest waitlisted one takes the seat)",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: UUID | None = None) -> Response:
        registration = services.registration_cancel(
            registration=self.get_object(), by=signed_in_user(request)
        )
        return Response(_render(request, registration))

    def _qr(self, kind: str, content_type: str) -> HttpResponse:
        registration = self.get_object()
        if registration.status != Registration.Status.CONFIRMED:
            raise TicketNotConfirmedError()
        # The signed ticket (registrations.signing): door devices check it offline.
        return HttpResponse(ticket_qr(signing.sign(registration), kind), content_type=content_type)

    @_qr_schema("image/svg+xml")
    @action(detail=True, url_path="qr.svg", content_negotiation_class=FileResponseNegotiation)
    def qr_svg(self, request: Request, pk: UUID | None = None) -> HttpResponse:
        return self._qr("svg", "image/svg+xml")

    @_qr_schema("image/png")
    @action(detail=True, url_path="qr.png", content_negotiation_class=FileResponseNegotiation)
    def qr_png(self, request: Request, pk: UUID | None = None) -> HttpResponse:
        return self._qr("png", "image/png")
