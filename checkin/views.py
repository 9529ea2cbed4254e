import json
from uuid import UUID

from django.conf import settings
from django.utils.decorators import method_decorator
from django.views.decorators.gzip import gzip_page
from drf_spectacular.utils import OpenApiParameter, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import signed_in_user
from accounts.selectors import Along
from eventmaster.api.permissions import RuleAccess
from eventmaster.api.schema import error_responses
from eventmaster.api.serializers import validate_input
from events.models import Event
from events.rules import RUN_DOOR, VIEW_EVENT
from events.selectors import event_for_door_along, event_from_along, event_get_for_door, event_get_visible

from . import services
from .errors import NonceReusedError
from .selectors import bundle_since, checkin_stats, door_bundle
from .serializers import (
    BATCH_MAX,
    BatchInputSerializer,
    BatchResultSerializer,
    BatchScanResultSerializer,
    CheckinStatsSerializer,
    DoorBundleQuerySerializer,
    DoorBundleSerializer,
    ScanInputSerializer,
    ScanResultSerializer,
    UndoInputSerializer,
    render_door_bundle,
    scan_input,
)

TAGS = ["checkin"]


# The body's event_id naming no event is a 400 raised by door_event().
_unknown_event = extend_validation_errors(["does_not_exist"], field_name="event_id", methods=["post"])


class _DoorView(RuleAccess, APIView):
    # The object permission (checked on the body's event) makes the 403 a
    # declared answer, so the schema documents it.
    scope_rule = VIEW_EVENT
    access = {"post": RUN_DOOR}

    def along_with_user(self, request: Request) -> Along | None:
        """The event the body names, read in the statement that reads the
        caller (accounts.authentication): a door scan's two reads in one
        round trip. ``door_event`` takes it from there, once the body is
        validated; nothing is read ahead unless the body is a small JSON
        object with a UUID for ``event_id``."""
        self._along_event_id = _body_event_id(request)
        self._along = event_for_door_along(self._along_event_id) if self._along_event_id else None
        return self._along

    def door_event(self, event_id: UUID) -> Event:
        """The event of the body, if the caller may check in there: 400 for
        an id that names no event or one the caller may not see (a draft
        must not be told apart from nothing), 403 for an event they see but
        may not check in at. One query: visibility is decided on the row."""
        along: Along | None = getattr(self, "_along", None)
        if along is not None and along.row is not None and self._along_event_id == event_id:
            event = event_from_along(along, self.request.user)  # read with the caller
        else:
            event = event_get_for_door(user=self.request.user, pk=event_id)
        if event is None or not VIEW_EVENT.allows(self.request.user, event):
            raise ValidationError({"event_id": ["No such event."]}, code="does_not_exist")
        self.check_object_permissions(self.request, event)
        return event

    def answer(self, outcome: services.ScanOutcome) -> Response:
        return Response(ScanResultSerializer(outcome, context={"request": self.request}).data)


# A scan's body is a few hundred bytes; a larger one (a batch) is left to the
# parser alone rather than decoded twice.
_READ_AHEAD_MAX = 4096


def _body_event_id(request: Request) -> UUID | None:
    """The body's ``event_id``, read ahead of DRF's parser, if the body is a
    small JSON object with a UUID there; None for anything else, which the
    parser then reads (and refuses) as ever."""
    meta = request._request.META
    if not str(meta.get("CONTENT_TYPE", "")).startswith("application/json"):
        return None
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    # Only a body whose whole length is declared and small is read here
    # (the parser then reads it from memory): a chunked or large one is left
    # to the parser alone, and to its errors.
    limit = min(_READ_AHEAD_MAX, settings.DATA_UPLOAD_MAX_MEMORY_SIZE or _READ_AHEAD_MAX)
    if not 0 < length <= limit:
        return None
    try:
        body = json.loads(request._request.body)
        event_id = body.get("event_id") if isinstance(body, dict) else None
        return UUID(event_id) if isinstance(event_id, str) else None
    except (ValueError, TypeError, RecursionError):  # the parser's 400 to give, not ours
        return None


@_unknown_event
class CheckinView(_DoorView):
    @extend_schema(
        tags=TAGS,
        request=ScanInputSerializer,
        responses={200: ScanResultSerializer, **error_responses(NonceReusedError)},
        summary="Scan a ticket at the door (always 200 with a result when allowed)",
    )
    def post(self, request: Request) -> Response:
        data = scan_input(request.data)
        event = self.door_event(data["event_id"])
        return self.answer(
            services.checkin_scan(
                ticket_code=data["ticket_code"],
                event=event,
                by=signed_in_user(request),
                nonce=data.get("nonce"),
                scanned_at=data.get("scanned_at"),
                direction=data["direction"],
                device=data.get("device", ""),
            )
        )


@_unknown_event
@extend_validation_errors(["null", "invalid"], field_name="scans.INDEX", methods=["post"])
@extend_validation_errors(["invalid"], field_name="scans.INDEX.non_field_errors", methods=["post"])
class CheckinBatchView(_DoorView):
    """POST /checkin/batch: the scans a device made offline, synced at once."""

    @extend_schema(
        tags=TAGS,
        request=BatchInputSerializer,
        responses={200: BatchResultSerializer},
        summary="Sync scans made offline: one result per scan, in order (docs/api.md, Offline scans)",
    )
    def post(self, request: Request) -> Response:
        scans = request.data.get("scans") if isinstance(request.data, dict) else None
        if isinstance(scans, list) and len(scans) > BATCH_MAX:
            # Refused before each of them is validated: that would cost
            # seconds for a body of many thousands.
            raise ValidationError(
                {
                    "scans": [
                        ErrorDetail(f"Ensure this field has no more than {BATCH_MAX} elements.", "max_length")
                    ]
                }
            )
        data = validate_input(BatchInputSerializer, request.data)
        event = self.door_event(data["event_id"])
        outcomes = services.checkin_batch(
            event=event, by=signed_in_user(request), device=data.get("device", ""), scans=data["scans"]
        )
        serializer = BatchScanResultSerializer(context={"request": request})
        return Response({"results": [serializer.to_representation(outcome) for outcome in outcomes]})


@_unknown_event
class CheckinUndoView(_DoorView):
    @extend_schema(
        tags=TAGS,
        request=UndoInputSerializer,
        responses={200: ScanResultSerializer},
        summary="Undo a check-in (result undone, or not_checked_in, or a refusal)",
    )
    def post(self, request: Request) -> Response:
        data = validate_input(UndoInputSerializer, request.data)
        event = self.door_event(data["event_id"])
        return self.answer(
            services.checkin_undo(ticket_code=data["ticket_code"], event=event, by=signed_in_user(request))
        )


class EventCheckinStatsView(RuleAccess, APIView):
    scope_rule = VIEW_EVENT
    access = {"get": RUN_DOOR}

    @extend_schema(
        tags=TAGS, responses={200: CheckinStatsSerializer}, summary="Door statistics and arrivals per minute"
    )
    def get(self, request: Request, event_id: UUID) -> Response:
        event = event_get_visible(user=request.user, pk=event_id)
        self.check_object_permissions(request, event)
        return Response(CheckinStatsSerializer(checkin_stats(event=event)).data)


@extend_validation_errors(
    ["invalid", "max_length", "null_characters_not_allowed", "surrogate_characters_not_allowed"],
    field_name="since",
    methods=["get"],
)
# Compressed for clients that accept it (browsers do): a door phone on a
# weak network fetches a tenth of the bytes. It holds no secret for a
# compression attack to guess (no codes, no tokens).
@method_decorator(gzip_page, name="dispatch")
class EventDoorBundleView(RuleAccess, APIView):
    """GET /events/{id}/door-bundle[?since=version]: for whoever may run
    that door (the owner, an admin, its door staff)."""

    scope_rule = VIEW_EVENT
    access = {"get": RUN_DOOR}

    @extend_schema(
        tags=TAGS,
        parameters=[
            OpenApiParameter(
                "since",
                str,
                required=False,
                allow_blank=True,
                description="A previous bundle's version: only what changed after it (empty: everything).",
            )
        ],
        responses={200: DoorBundleSerializer},
        summary="What a door device needs offline: keys, attendees, cancelled tickets (or what changed since)",
    )
    def get(self, request: Request, event_id: UUID) -> Response:
        event = event_get_visible(user=request.user, pk=event_id)
        self.check_object_permissions(request, event)
        query = validate_input(DoorBundleQuerySerializer, request.query_params)
        since = None
        if query.get("since"):
            since = bundle_since(query["since"])
            if since is None:
                raise ValidationError({"since": ["Not a bundle version."]}, code="invalid")
        return Response(render_door_bundle(door_bundle(event=event, since=since)))
