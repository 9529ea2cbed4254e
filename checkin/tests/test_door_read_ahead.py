"""The door views read the caller and the body's event in one statement,
and the bodies it leaves to the view's own read (and to the parser's errors)."""

import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from checkin.views import _body_event_id
from eventmaster.api.parsers import BoundedJSONParser

pytestmark = pytest.mark.django_db

EVENT_ID = uuid.uuid4()


def drf_request(body: bytes, content_type: str = "application/json", **meta) -> Request:
    request = APIRequestFactory().generic("POST", "/api/v1/checkin", body, content_type=content_type)
    request.META.update(meta)
    return Request(request, parsers=[BoundedJSONParser()])


@pytest.mark.parametrize(
    ("body", "content_type", "meta", "expected"),
    [
        (json.dumps({"event_id": str(EVENT_ID)}).encode(), "application/json", {}, EVENT_ID),
        (json.dumps({"event_id": str(EVENT_ID).upper()}).encode(), "application/json", {}, EVENT_ID),
        (json.dumps({"event_id": str(EVENT_ID)}).encode(), "text/plain", {}, None),
        (json.dumps({"event_id": str(EVENT_ID)}).encode(), "application/json", {"CONTENT_LENGTH": ""}, None),
        (json.dumps({"event_id": str(EVENT_ID)}).encode(), "application/json", {"CONTENT_LENGTH": "x"}, None),
        (json.dumps({"event_id": 7}).encode(), "application/json", {}, None),
        (json.dumps({"event_id": "not-a-uuid"}).encode(), "application/json", {}, None),
        (json.dumps([str(EVENT_ID)]).encode(), "application/json", {}, None),
        (b"{not json", "application/json", {}, None),
        (b"\xff\xfe", "application/json", {}, None),
        (b"[" * 3000 + b"]" * 3000, "application/json", {}, None),
        (json.dumps({"event_id": str(EVENT_ID), "pad": "x" * 5000}).encode(), "application/json", {}, None),
    ],
    ids=[
        "uuid",
        "upper-case",
        "not-json-type",
        "no-length",
        "bad-length",
        "number",
        "not-uuid",
        "list",
        "broken",
        "not-utf8",
        "nested",
        "large",
    ],
)
def test_the_event_id_is_read_ahead_only_from_a_small_json_object(body, content_type, meta, expected):
    assert _body_event_id(drf_request(body, content_type, **meta)) == expected


def test_a_body_over_the_limit_is_left_to_the_parser(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    assert _body_event_id(drf_request(json.dumps({"event_id": str(EVENT_ID)}).encode())) is None


def test_the_parser_still_reads_a_body_read_ahead():
    request = drf_request(json.dumps({"event_id": str(EVENT_ID), "ticket_code": "x"}).encode())
    assert _body_event_id(request) == EVENT_ID
    assert request.data == {"event_id": str(EVENT_ID), "ticket_code": "x"}


def test_a_scan_reads_the_event_with_the_caller(scan, registration, event):
    with CaptureQueriesContext(connection) as captured:
        assert scan(registration.ticket_code).json()["result"] == "ok"
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert '"accounts_user"' in reads[0] and '"events_event"' in reads[0]
    assert not any('"events_event" e' in sql for sql in reads[1:]), reads


@pytest.mark.parametrize("event_id", ["unknown", "draft-of-another"])
def test_an_event_read_with_the_caller_is_refused_as_before(scan, registration, event_id):
    from events.models import Event
    from events.tests.factories import EventFactory

    pk = uuid.uuid4() if event_id == "unknown" else EventFactory(status=Event.Status.DRAFT).pk
    response = scan(registration.ticket_code, event_id=pk)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "event_id"
