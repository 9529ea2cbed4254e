import re
import uuid
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import Direction, PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from accounts.serializers import UserRefSerializer
from eventmaster.api.serializers import (
    OffsetDateTimeField,
    StrictUUIDField,
    refuse_other_json_types,
    render_datetime,
    validate_input,
)
from registrations.serializers import RegistrationSerializer

from .models import Scan
from .services import ScanOutcome

DIRECTIONS = ("in", "out")
DEVICE_HELP = "The client's name for the scanning device (e.g. one id per installed scanner page)."


class ScanInputSerializer(serializers.Serializer):
    ticket_code = serializers.CharField(
        max_length=255, help_text="The random ticket code or a signed ticket."
    )
    event_id = StrictUUIDField()
    nonce = StrictUUIDField(required=False, allow_null=True, help_text="A UUID per scan: retries are safe.")
    scanned_at = OffsetDateTimeField(
        required=False, allow_null=True, help_text="When the phone read the code."
    )
    direction = serializers.ChoiceField(
        choices=DIRECTIONS, default="in", help_text="in: an entry; out: an exit."
    )
    device = serializers.CharField(max_length=64, required=False, allow_blank=True, help_text=DEVICE_HELP)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _plain_text(value: object, max_length: int, *, blank: bool) -> bool:
    """A string DRF's CharField would take as it is: nothing to trim, not
    too long, not blank unless allowed, no NUL or surrogate character."""
    return (
        isinstance(value, str)
        and len(value) <= max_length
        and (blank or value != "")
        and value == value.strip()
        and "\x00" not in value
        and _SURROGATE.search(value) is None
    )


def _uuid(value: object) -> uuid.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(hex=value)
    except ValueError:
        return None


def scan_input(data: Any) -> dict[str, Any]:
    """ScanInputSerializer's validated data for a scan's body. The usual body
    (strings with nothing to trim, UUIDs, no ``scanned_at``) is taken here,
    as the serializer would take it, without building the serializer's
    fields anew for each scan (most of the cost of validating a scan); any
    other body, and every error, is the serializer's
    (checkin/tests/test_serializers.py holds the two to the same result)."""
    if type(data) is dict:
        plain = _plain_scan(data)
        if plain is not None:
            return plain
    return validate_input(ScanInputSerializer, data)


def _plain_scan(data: dict[str, Any]) -> dict[str, Any] | None:
    ticket_code, event_id = data.get("ticket_code"), _uuid(data.get("event_id"))
    direction = data.get("direction", "in")
    if not _plain_text(ticket_code, 255, blank=False) or event_id is None or direction not in DIRECTIONS:
        return None
    plain: dict[str, Any] = {"ticket_code": ticket_code, "event_id": event_id}
    for name in ("nonce", "scanned_at"):
        if name in data:
            value = data[name]
            if value is None:
                plain[name] = None
            elif name == "nonce" and (nonce := _uuid(value)) is not None:
                plain[name] = nonce
            else:
                return None  # a date and time is the serializer's to read
    plain["direction"] = direction
    if "device" in data:
        if not _plain_text(data["device"], 64, blank=True):
            return None
        plain["device"] = data["device"]
    return plain


class BatchScanSerializer(serializers.Serializer):
    nonce = StrictUUIDField(help_text="A UUID per scan: sending the batch again changes nothing.")
    ticket_code = serializers.CharField(
        max_length=255, help_text="The random ticket code or a signed ticket."
    )
    scanned_at = OffsetDateTimeField(help_text="When the device read the code.")
    direction = serializers.ChoiceField(choices=DIRECTIONS, default="in")

    def to_internal_value(self, data: Any) -> Any:
        refuse_other_json_types(self, data)  # a ticket_code of 0 is no code
        return super().to_internal_value(data)


BATCH_MAX = 500


class BatchInputSerializer(serializers.Serializer):
    event_id = StrictUUIDField()
    device = serializers.CharField(max_length=64, required=False, allow_blank=True, help_text=DEVICE_HELP)
    scans = serializers.ListField(child=BatchScanSerializer(), allow_empty=False, max_length=BATCH_MAX)


class UndoInputSerializer(serializers.Serializer):
    ticket_code = serializers.CharField(max_length=255)
    event_id = StrictUUIDField()


class _WrongEventRef(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()


class WrongEventRegistrationSerializer(serializers.Serializer):
    """A valid ticket of another event: its event, and nothing more."""

    event = _WrongEventRef()


class _WrongEventRegistrationSchema(OpenApiSerializerExtension):
    """No property but ``event``: a full registration also has an ``event``
    with an id and a title, so without this it would match both variants of
    ScanRegistration's oneOf, and a schema validator would reject it."""

    target_class = WrongEventRegistrationSerializer

    def map_serializer(self, auto_schema: AutoSchema, direction: Direction) -> dict[str, Any]:
        return {**super().map_serializer(auto_schema, direction), "additionalProperties": False}


class ScanResultSerializer(serializers.Serializer):
    """Serializes a checkin.services.ScanOutcome (needs ``request`` in the context)."""

    # nonce_reused is logged but answered as a 409, never as a scan result.
    result = serializers.ChoiceField(
        choices=[c for c in Scan.Result.choices if c[0] != Scan.Result.NONCE_REUSED]
    )
    registration = serializers.SerializerMethodField(allow_null=True)
    checked_in_at = serializers.DateTimeField(allow_null=True)
    checked_in_by = UserRefSerializer(allow_null=True)
    checked_in_device = serializers.CharField(
        allow_null=True, help_text="The device that checked the ticket in, if it said."
    )

    def to_representation(self, outcome: ScanOutcome) -> dict[str, Any]:
        # Built by hand, as RegistrationSerializer is (the door scan's hot
        # path); checkin/tests/test_serializers.py holds it to DRF's output.
        by, checked_in_at = outcome.checked_in_by, outcome.checked_in_at
        return {
            "result": str(outcome.result),
            "registration": self.get_registration(outcome),
            "checked_in_at": None if checked_in_at is None else render_datetime(checked_in_at),
            "checked_in_by": None if by is None else {"id": str(by.pk), "full_name": by.full_name},
            "checked_in_device": outcome.checked_in_device,
        }

    @extend_schema_field(
        PolymorphicProxySerializer(
            component_name="ScanRegistration",
            serializers=[RegistrationSerializer, WrongEventRegistrationSerializer],
            resource_type_field_name=None,
            many=False,
        )
    )
    def get_registration(self, outcome: ScanOutcome) -> dict[str, Any] | None:
        registration = outcome.registration
        if registration is None:
            return None
        if outcome.result == Scan.Result.WRONG_EVENT:
            return {"event": {"id": str(registration.event_id), "title": registration.event.title}}
        return RegistrationSerializer(context=self.context).to_representation(registration)


class BatchScanResultSerializer(ScanResultSerializer):
    # A nonce sent before with another ticket, event or direction is this
    # scan's result here (a single scan answers it with a 409).
    result = serializers.ChoiceField(choices=Scan.Result.choices)


class BatchResultSerializer(serializers.Serializer):
    results = BatchScanResultSerializer(many=True, help_text="One per scan, in the order they were sent.")


class ArrivalSerializer(serializers.Serializer):
    minute = serializers.DateTimeField()
    count = serializers.IntegerField(min_value=1)


class CheckinStatsSerializer(serializers.Serializer):
    confirmed = serializers.IntegerField()
    checked_in = serializers.IntegerField()
    not_checked_in = serializers.IntegerField()
    waitlisted = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    inside = serializers.IntegerField(help_text="Checked in and not gone out: inside now.")
    arrivals = ArrivalSerializer(many=True)


class _BundleEventSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    status = serializers.CharField()
    start_at = serializers.DateTimeField()
    end_at = serializers.DateTimeField()


class _BundleKeySerializer(serializers.Serializer):
    kid = serializers.IntegerField(help_text="The key id a signed ticket names.")
    public_key = serializers.CharField(
        help_text="The Ed25519 public key, 32 bytes, base64url without padding."
    )
    retired = serializers.BooleanField(help_text="Rotated: signs nothing new, its tickets stay valid.")


class _BundleAttendeeSerializer(serializers.Serializer):
    ticket_id = serializers.UUIDField(help_text="The registration id, as a signed ticket names it.")
    name = serializers.CharField()
    checked_in_at = serializers.DateTimeField(allow_null=True)
    inside = serializers.BooleanField(help_text="Checked in and not gone out since.")
    checked_in_device = serializers.CharField(help_text="The device that checked them in, if it said.")


class DoorBundleSerializer(serializers.Serializer):
    event = _BundleEventSerializer()
    version = serializers.CharField(help_text="Send it back as ?since= to get only what changed after it.")
    full = serializers.BooleanField(help_text="false: a delta since the version asked for.")
    keys = _BundleKeySerializer(many=True)
    attendees = _BundleAttendeeSerializer(many=True)
    revoked = serializers.ListField(child=serializers.UUIDField(), help_text="Cancelled tickets' ids.")


class DoorBundleQuerySerializer(serializers.Serializer):
    since = serializers.CharField(required=False, allow_blank=True, max_length=20)


def render_door_bundle(bundle: dict[str, Any]) -> dict[str, Any]:
    """checkin.selectors.door_bundle as DoorBundleSerializer declares it,
    rendered by hand: 100,000 attendees through nested DRF fields cost
    seconds."""
    event = bundle["event"]
    return {
        "event": {
            "id": str(event.pk),
            "title": event.title,
            "status": event.status,
            "start_at": render_datetime(event.start_at),
            "end_at": render_datetime(event.end_at),
        },
        "version": bundle["version"],
        "full": bundle["full"],
        "keys": bundle["keys"],
        "attendees": [
            {
                "ticket_id": str(pk),
                "name": name,
                "checked_in_at": None if checked_in_at is None else render_datetime(checked_in_at),
                "inside": inside,
                "checked_in_device": device,
            }
            for pk, name, checked_in_at, inside, device in bundle["attendees"]
        ],
        "revoked": [str(pk) for pk in bundle["revoked"]],
    }
