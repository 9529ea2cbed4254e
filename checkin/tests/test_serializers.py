"""ScanResultSerializer renders by hand (the door scan's hot path): it must
give exactly what DRF's rendering of its declared fields gives."""

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from accounts.tests.factories import UserFactory
from checkin import services
from checkin.serializers import ScanResultSerializer
from events.models import Event
from events.tests.factories import EventFactory
from registrations.services import registration_cancel, registration_create

pytestmark = pytest.mark.django_db


def test_every_result_renders_as_drf_does(event, organizer, member, checkin_user):
    event.staff.add(checkin_user)
    ok = registration_create(event=event, user=member)
    cancelled = registration_cancel(
        registration=registration_create(event=event, user=UserFactory()), by=organizer
    )
    for _ in range(2):
        registration_create(event=event, user=UserFactory())
    waitlisted = registration_create(event=event, user=UserFactory())
    other = registration_create(event=EventFactory(organizer=organizer), user=UserFactory())
    scan = lambda code, by=organizer: services.checkin_scan(ticket_code=code, event=event, by=by)  # noqa: E731
    outcomes = [
        scan(ok.ticket_code),
        scan(ok.ticket_code, checkin_user),
        services.checkin_undo(ticket_code=ok.ticket_code, event=event, by=organizer),
        services.checkin_undo(ticket_code=ok.ticket_code, event=event, by=organizer),
        scan(cancelled.ticket_code),
        scan(waitlisted.ticket_code),
        scan(other.ticket_code),
        scan("no-such-code"),
    ]
    Event.objects.filter(pk=event.pk).update(status=Event.Status.CANCELLED)
    event.refresh_from_db()
    outcomes.append(scan(ok.ticket_code))
    assert [o.result for o in outcomes] == [
        "ok", "already_checked_in", "undone", "not_checked_in", "cancelled", "not_confirmed", "wrong_event",
        "invalid", "event_cancelled",
    ]  # fmt: skip
    for outcome in outcomes:
        for viewer in (organizer, checkin_user):
            context = {"request": SimpleNamespace(user=viewer)}
            by_hand = ScanResultSerializer(outcome, context=context).data
            by_drf = serializers.Serializer.to_representation(ScanResultSerializer(context=context), outcome)
            assert dict(by_hand) == dict(by_drf), outcome.result
            assert list(by_hand) == list(ScanResultSerializer().fields)


# --- scan_input: the usual body taken without the serializer, as the serializer takes it

_TEXT = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        ["", " ", " x", "x ", "a\x00b", "\ud800", "ok", "é" * 255, "é" * 256, "\u2003x", "d" * 64]
    ),
)
_UUIDS = st.uuids().flatmap(
    lambda u: st.sampled_from(
        [str(u), str(u).upper(), u.hex, "{" + str(u) + "}", "urn:uuid:" + str(u), f" {u}"]
    )
)
_VALUES = st.one_of(
    _TEXT, _UUIDS, st.none(), st.integers(), st.booleans(), st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=2), st.sampled_from(["in", "out", "IN", "2026-05-01T18:00:00Z"]),
)  # fmt: skip
_FIELDS = ("ticket_code", "event_id", "nonce", "scanned_at", "direction", "device", "other")


_NEAR_USUAL = st.fixed_dictionaries(
    {"ticket_code": _TEXT, "event_id": _UUIDS},
    optional={
        "nonce": st.one_of(_UUIDS, st.none(), _VALUES),
        "scanned_at": st.one_of(st.none(), _VALUES),
        "direction": st.one_of(st.sampled_from(["in", "out"]), _VALUES),
        "device": _TEXT,
        "other": _VALUES,
    },
)


@settings(max_examples=800, deadline=None)
@given(st.one_of(st.dictionaries(st.sampled_from(_FIELDS), _VALUES), _NEAR_USUAL))
def test_scan_input_takes_a_body_as_the_serializer_does(body):
    from rest_framework.exceptions import ValidationError

    from checkin.serializers import ScanInputSerializer, _plain_scan, scan_input
    from eventmaster.api.serializers import validate_input

    try:
        expected = validate_input(ScanInputSerializer, body)
    except ValidationError as error:
        assert _plain_scan(body) is None  # an error is always the serializer's
        with pytest.raises(ValidationError) as raised:
            scan_input(body)
        assert raised.value.detail == error.detail
    else:
        assert scan_input(body) == dict(expected)


def test_scan_input_takes_the_usual_body_itself(monkeypatch):
    """The usual scans (a door page's, the benchmark's) never build the serializer."""
    import uuid

    from checkin import serializers as scan_serializers

    monkeypatch.setattr(scan_serializers, "validate_input", None)
    event_id, nonce = uuid.uuid4(), uuid.uuid4()
    body = {"ticket_code": "abc", "event_id": str(event_id), "nonce": str(nonce), "device": "door-1"}
    assert scan_serializers.scan_input(body) == {
        "ticket_code": "abc", "event_id": event_id, "nonce": nonce, "direction": "in", "device": "door-1"
    }  # fmt: skip
    assert scan_serializers.scan_input({**body, "direction": "out", "scanned_at": None})["direction"] == "out"
