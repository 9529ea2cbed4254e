"""POST /checkin and /checkin/undo: every result, nonce replay, roles,
malformed bodies, and the scan log of every attempt."""

import uuid
from datetime import timedelta

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.services import user_revoke_role
from accounts.tests.factories import UserFactory
from checkin.models import Scan
from eventmaster.roles import Role
from eventmaster.tests.utils import assert_error, client_for
from events.models import Event
from events.tests.factories import EventFactory
from registrations.models import Registration
from registrations.services import registration_cancel, registration_create

pytestmark = pytest.mark.django_db

SCAN_FIELDS = {"result", "registration", "checked_in_at", "checked_in_by", "checked_in_device"}


def body_of(response, result: str) -> dict:
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == SCAN_FIELDS and body["result"] == result, body
    return body


class TestResults:
    def test_ok_checks_the_ticket_in(self, scan, registration, organizer):
        body = body_of(scan(registration.ticket_code), "ok")
        assert body["registration"]["id"] == str(registration.pk)
        assert body["checked_in_by"] == {"id": str(organizer.pk), "full_name": organizer.full_name}
        registration.refresh_from_db()
        assert registration.checked_in_by == organizer
        assert body["checked_in_at"] == registration.checked_in_at.isoformat().replace("+00:00", "Z")

    def test_second_scan_says_when_and_by_whom(self, scan, registration, organizer, staff_client):
        first = body_of(scan(registration.ticket_code), "ok")
        again = body_of(scan(registration.ticket_code, client=staff_client), "already_checked_in")
        assert again["checked_in_at"] == first["checked_in_at"]
        assert again["checked_in_by"]["id"] == str(organizer.pk)

    def test_cancelled_registration(self, scan, registration, member):
        registration_cancel(registration=registration, by=member)
        body = body_of(scan(registration.ticket_code), "cancelled")
        assert body["registration"]["status"] == "cancelled"

    def test_waitlisted_is_not_confirmed(self, scan, event):
        for _ in range(3):
            registration_create(event=event, user=UserFactory())
        waitlisted = registration_create(event=event, user=UserFactory())
        body = body_of(scan(waitlisted.ticket_code), "not_confirmed")
        assert body["registration"]["waitlist_position"] == 1
        assert Registration.objects.get(pk=waitlisted.pk).checked_in_at is None

    def test_wrong_event_shows_only_that_event(self, scan, organizer, member):
        other = EventFactory(organizer=organizer, title="The other one")
        ticket = registration_create(event=other, user=member)
        body = body_of(scan(ticket.ticket_code), "wrong_event")
        assert body["registration"] == {"event": {"id": str(other.pk), "title": "The other one"}}
        assert Registration.objects.get(pk=ticket.pk).checked_in_at is None

    @pytest.mark.parametrize(
        "code", ["no-such-ticket", "", " ", "x" * 255, "'; DROP TABLE x; --", "\u00e9\u00e8"]
    )
    def test_unknown_code_is_invalid(self, scan, code):
        response = scan(code)
        if not code.strip():
            assert_error(response, 400, "blank", attr="ticket_code")
            return
        assert body_of(response, "invalid")["registration"] is None

    def test_event_cancelled(self, scan, registration, event):
        Event.objects.filter(pk=event.pk).update(status=Event.Status.CANCELLED)
        body_of(scan(registration.ticket_code), "event_cancelled")

    def test_precedence(self, scan, event, organizer, member):
        # A cancelled registration of a cancelled event: event_cancelled wins.
        registration = registration_create(event=event, user=member)
        registration_cancel(registration=registration, by=member)
        Event.objects.filter(pk=event.pk).update(status=Event.Status.CANCELLED)
        body_of(scan(registration.ticket_code), "event_cancelled")
        # A ticket of another, cancelled event: wrong_event wins.
        other = EventFactory(organizer=organizer)
        ticket = registration_create(event=other, user=UserFactory())
        Event.objects.filter(pk=other.pk).update(status=Event.Status.CANCELLED)
        live = EventFactory(organizer=organizer)
        body_of(scan(ticket.ticket_code, event_id=live.pk), "wrong_event")


class TestUndo:
    def test_undo_clears_the_check_in(self, scan, registration):
        scan(registration.ticket_code)
        body = body_of(scan(registration.ticket_code, path="/api/v1/checkin/undo"), "undone")
        assert body["checked_in_at"] is None and body["checked_in_by"] is None
        assert Registration.objects.get(pk=registration.pk).checked_in_at is None
        # Checked in again after the undo: ok, not already_checked_in.
        body_of(scan(registration.ticket_code), "ok")

    def test_undo_of_a_ticket_not_checked_in(self, scan, registration):
        body_of(scan(registration.ticket_code, path="/api/v1/checkin/undo"), "not_checked_in")

    def test_undo_refusals(self, scan):
        body_of(scan("nothing", path="/api/v1/checkin/undo"), "invalid")

    def test_undo_is_logged(self, scan, registration, organizer):
        scan(registration.ticket_code)
        scan(registration.ticket_code, path="/api/v1/checkin/undo")
        undo = Scan.objects.get(action="undo")
        assert (undo.result, undo.by, undo.registration_id) == ("undone", organizer, registration.pk)


class TestNonce:
    def test_a_retry_returns_the_original_result_and_writes_nothing(self, scan, registration):
        nonce = str(uuid.uuid4())
        first = body_of(scan(registration.ticket_code, nonce=nonce), "ok")
        retry = body_of(scan(registration.ticket_code, nonce=nonce), "ok")
        assert retry == first
        assert Scan.objects.count() == 1

    def test_without_a_nonce_a_repeat_is_already_checked_in(self, scan, registration):
        body_of(scan(registration.ticket_code), "ok")
        body_of(scan(registration.ticket_code), "already_checked_in")
        assert Scan.objects.count() == 2

    def test_a_new_nonce_is_a_new_scan(self, scan, registration):
        body_of(scan(registration.ticket_code, nonce=str(uuid.uuid4())), "ok")
        body_of(scan(registration.ticket_code, nonce=str(uuid.uuid4())), "already_checked_in")

    def test_nonces_are_per_user(self, scan, registration, staff_client):
        nonce = str(uuid.uuid4())
        body_of(scan(registration.ticket_code, nonce=nonce), "ok")
        body_of(scan(registration.ticket_code, nonce=nonce, client=staff_client), "already_checked_in")
        assert Scan.objects.count() == 2

    def test_a_retried_refusal_stays_the_same_refusal(self, scan):
        nonce = str(uuid.uuid4())
        body_of(scan("bogus", nonce=nonce), "invalid")
        body_of(scan("bogus", nonce=nonce), "invalid")
        assert Scan.objects.count() == 1

    def test_a_nonce_reused_with_another_ticket_is_409_and_logged(self, scan, registration, event, organizer):
        other = registration_create(event=event, user=UserFactory())
        nonce = str(uuid.uuid4())
        body_of(scan(registration.ticket_code, nonce=nonce), "ok")
        assert_error(scan(other.ticket_code, nonce=nonce), 409, "nonce_reused")
        # The second ticket is not checked in, and the attempt is in the log
        # (without the nonce: the unique (by, nonce) holds the original).
        assert Registration.objects.get(pk=other.pk).checked_in_at is None
        reused = Scan.objects.get(result="nonce_reused")
        assert (reused.ticket_code, reused.event_id, reused.by, reused.nonce) == (
            other.ticket_code,
            event.pk,
            organizer,
            None,
        )
        assert reused.registration_id == other.pk
        assert Scan.objects.count() == 2
        # A genuine retry of the original still replays it.
        body_of(scan(registration.ticket_code, nonce=nonce), "ok")
        assert Scan.objects.count() == 2

    def test_a_nonce_reused_at_another_event_is_409_and_logged(self, scan, registration, organizer):
        other_event = EventFactory(organizer=organizer)
        nonce = str(uuid.uuid4())
        body_of(scan(registration.ticket_code, nonce=nonce), "ok")
        assert_error(
            scan(registration.ticket_code, nonce=nonce, event_id=other_event.pk), 409, "nonce_reused"
        )
        reused = Scan.objects.get(result="nonce_reused")
        assert (reused.event_id, reused.nonce) == (other_event.pk, None)
        assert Scan.objects.count() == 2

    def test_a_reused_refusal_nonce_is_409_too(self, scan, registration):
        nonce = str(uuid.uuid4())
        body_of(scan("bogus", nonce=nonce), "invalid")
        assert_error(scan(registration.ticket_code, nonce=nonce), 409, "nonce_reused")
        assert Registration.objects.get(pk=registration.pk).checked_in_at is None
        assert [s.result for s in Scan.objects.order_by("id")] == ["invalid", "nonce_reused"]


class TestRoles:
    @pytest.mark.parametrize("client_fixture", ["organizer_client", "admin_client", "staff_client"])
    def test_owner_admin_and_assigned_staff_may_scan(self, request, client_fixture, scan, registration):
        body_of(scan(registration.ticket_code, client=request.getfixturevalue(client_fixture)), "ok")

    def test_everyone_else_is_403(self, scan, registration, member_client, checkin_client):
        other_organizer = client_for(UserFactory(roles=[Role.MEMBER, Role.ORGANIZER]))
        for client in (member_client, checkin_client, other_organizer):  # checkin_client: staff, not assigned
            for path in ("/api/v1/checkin", "/api/v1/checkin/undo"):
                assert_error(
                    scan(registration.ticket_code, client=client, path=path), 403, "permission_denied"
                )
        assert Registration.objects.get(pk=registration.pk).checked_in_at is None
        assert not Scan.objects.exists()

    def test_a_draft_the_caller_may_not_see_is_an_unknown_event(self, scan, organizer, checkin_client):
        # 400 does_not_exist, exactly as for an id that names no event: a 403
        # would tell that the draft exists.
        draft = EventFactory(status=Event.Status.DRAFT)
        other_organizer = client_for(UserFactory(roles=[Role.MEMBER, Role.ORGANIZER]))
        for client in (checkin_client, other_organizer):
            for path in ("/api/v1/checkin", "/api/v1/checkin/undo"):
                unknown = scan("x", event_id=uuid.uuid4(), client=client, path=path)
                hidden = scan("x", event_id=draft.pk, client=client, path=path)
                assert_error(hidden, 400, "does_not_exist", attr="event_id")
                assert hidden.json() == unknown.json()
        assert not Scan.objects.exists()

    def test_revoked_door_staff_get_400_for_an_assigned_draft(self, scan, checkin_user):
        draft = EventFactory(status=Event.Status.DRAFT)
        draft.staff.add(checkin_user)
        client = client_for(checkin_user)
        registration = registration_create(event=EventFactory(), user=UserFactory())
        assert scan(registration.ticket_code, event_id=draft.pk, client=client).status_code == 200
        user_revoke_role(user=checkin_user, role=Role.CHECKIN)
        assert_error(scan("x", event_id=draft.pk, client=client), 400, "does_not_exist", attr="event_id")

    def test_anonymous_is_401(self, scan, registration, api_client):
        assert_error(scan(registration.ticket_code, client=api_client), 401, "not_authenticated")

    def test_staff_is_limited_to_the_door(self, staff_client, event, checkin_user):
        # A door-staff member checks in, but edits nothing and sees no other event.
        other = EventFactory(status=Event.Status.DRAFT)
        assert_error(
            staff_client.patch(f"/api/v1/events/{event.pk}", {"title": "x"}), 403, "permission_denied"
        )
        assert_error(staff_client.get(f"/api/v1/events/{other.pk}"), 404, "not_found")
        managed = staff_client.get("/api/v1/events/managed").json()
        assert [item["id"] for item in managed["items"]] == [str(event.pk)]


class TestMalformed:
    @pytest.mark.parametrize(
        ("body", "code", "attr"),
        [
            ({}, "required", "ticket_code"),
            ({"ticket_code": "x"}, "required", "event_id"),
            ({"ticket_code": "x", "event_id": "not-a-uuid"}, "invalid", "event_id"),
            ({"ticket_code": "x", "event_id": "{event}", "nonce": "again"}, "invalid", "nonce"),
            ({"ticket_code": "x", "event_id": "{event}", "scanned_at": "yesterday"}, "invalid", "scanned_at"),
            ({"ticket_code": "x" * 256, "event_id": "{event}"}, "max_length", "ticket_code"),
            ({"ticket_code": ["x"], "event_id": "{event}"}, "invalid", "ticket_code"),
            ({"ticket_code": "x\x00y", "event_id": "{event}"}, "null_characters_not_allowed", "ticket_code"),
            ({"ticket_code": "x", "event_id": str(uuid.uuid4())}, "does_not_exist", "event_id"),
            # UUIDs are strings: DRF's UUIDField would read true or 1 as UUID ...0001.
            ({"ticket_code": "x", "event_id": "{event}", "nonce": True}, "invalid", "nonce"),
            ({"ticket_code": "x", "event_id": "{event}", "nonce": 1}, "invalid", "nonce"),
            ({"ticket_code": "x", "event_id": "{event}", "nonce": 2**100}, "invalid", "nonce"),
            ({"ticket_code": "x", "event_id": "{event}", "nonce": 1.5}, "invalid", "nonce"),
            ({"ticket_code": "x", "event_id": "{event}", "nonce": [str(uuid.uuid4())]}, "invalid", "nonce"),
            ({"ticket_code": "x", "event_id": 1}, "invalid", "event_id"),
            ({"ticket_code": "x", "event_id": False}, "invalid", "event_id"),
            # Timestamps carry an offset: a naive one is not silently UTC.
            (
                {"ticket_code": "x", "event_id": "{event}", "scanned_at": "2030-05-01T18:00:00"},
                "invalid",
                "scanned_at",
            ),
            (
                {"ticket_code": "x", "event_id": "{event}", "scanned_at": "2030-05-01 18:00"},
                "invalid",
                "scanned_at",
            ),
            ({"ticket_code": "x", "event_id": "{event}", "scanned_at": 1893520800}, "invalid", "scanned_at"),
        ],
    )
    def test_400_in_the_error_shape(self, organizer_client, event, body, code, attr):
        body = {k: (str(event.pk) if v == "{event}" else v) for k, v in body.items()}
        assert_error(organizer_client.post("/api/v1/checkin", body), 400, code, attr=attr)
        assert not Scan.objects.exists()

    def test_undo_takes_only_string_event_ids(self, organizer_client):
        response = organizer_client.post("/api/v1/checkin/undo", {"ticket_code": "x", "event_id": True})
        assert_error(response, 400, "invalid", attr="event_id")

    @pytest.mark.parametrize(
        ("scanned_at", "stored"),
        [
            ("2030-05-01T18:00:00Z", "2030-05-01T18:00:00+00:00"),
            ("2030-05-01T20:00:00+02:00", "2030-05-01T18:00:00+00:00"),
            ("2030-05-01", "2030-05-01T00:00:00+00:00"),
        ],
    )
    def test_scanned_at_with_an_offset_or_a_date_alone(self, scan, registration, scanned_at, stored):
        body_of(scan(registration.ticket_code, scanned_at=scanned_at), "ok")
        assert Scan.objects.get().scanned_at.isoformat() == stored

    @pytest.mark.parametrize("payload", ["[]", "not json", "null"])
    def test_non_object_bodies_are_400(self, organizer_client, payload):
        response = organizer_client.post("/api/v1/checkin", payload, content_type="application/json")
        assert response.status_code == 400 and response.json()["type"] in {"validation_error", "client_error"}

    def test_get_is_405(self, organizer_client):
        assert_error(organizer_client.get("/api/v1/checkin"), 405, "method_not_allowed")


def test_every_attempt_lands_in_the_scan_log(scan, registration, event, organizer, member):
    scanned_at = (timezone.now() - timedelta(seconds=30)).replace(microsecond=0)
    nonce = uuid.uuid4()
    attempts = [
        scan(registration.ticket_code, nonce=str(nonce), scanned_at=scanned_at.isoformat()),
        scan(registration.ticket_code),
        scan("garbage-code"),
        scan(registration.ticket_code, path="/api/v1/checkin/undo"),
    ]
    assert [r.json()["result"] for r in attempts] == ["ok", "already_checked_in", "invalid", "undone"]
    log = list(Scan.objects.order_by("id"))
    assert [s.result for s in log] == ["ok", "already_checked_in", "invalid", "undone"]
    assert {s.by_id for s in log} == {organizer.pk} and {s.event_id for s in log} == {event.pk}
    assert (log[0].nonce, log[0].scanned_at, log[0].registration_id) == (nonce, scanned_at, registration.pk)
    assert (log[2].ticket_code, log[2].registration_id) == ("garbage-code", None)


def scan_queries(captured) -> list[dict]:
    """The scan's own statements: after its commit, at most once a second per
    process, the webhooks' dispatch task is queued too (events.webhooks)."""
    queries = captured.captured_queries
    dispatches = [q for q in queries if "dispatch_webhooks" in q["sql"]]
    assert len(dispatches) <= 1
    return [q for q in queries if q not in dispatches]


@pytest.mark.django_db(transaction=True)  # as in production: the scan's atomic is the outermost
def test_one_scan_is_5_queries_including_authentication(scan, registration):
    """The user with their roles and the event with the caller's door
    permission (one statement: checkin.views, along_with_user), the locked registration, the check-in UPDATE, the log INSERT and (a
    check-in) its domain event INSERT, the outbox; plus the transaction's own
    BEGIN and COMMIT, which Django records too. An ordinary scan appends no
    audit entry: check-in never waits for the audit chain. On PostgreSQL a
    first entry is one statement after the two reads, in autocommit (no
    BEGIN or COMMIT: checkin.services._first_entry_at_once); any other scan
    tries it first, then takes the general path, its writes one statement
    (eventmaster.db.together)."""
    for nonce, expected in ((str(uuid.uuid4()), "ok"), (None, "already_checked_in")):
        with CaptureQueriesContext(connection) as captured:
            body_of(scan(registration.ticket_code, **({"nonce": nonce} if nonce else {})), expected)
        statements = [q["sql"].split()[0].upper() for q in scan_queries(captured)]
        data = [s for s in statements if s in {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}]
        control = [s for s in statements if s not in data]
        assert len(data) <= 5, captured.captured_queries
        if expected == "ok" and connection.vendor == "postgresql":
            assert statements == ["SELECT", "WITH"], captured.captured_queries
        assert not any("auditentry" in q["sql"] for q in captured.captured_queries)
        assert set(control) <= {"BEGIN", "COMMIT"} and len(control) <= 2, statements
    # already_checked_in: no UPDATE, and one SELECT for who checked it in
    # (on PostgreSQL after the first entry's statement, which changed nothing).
    tried = ["WITH"] if connection.vendor == "postgresql" else []
    assert data == ["SELECT", *tried, "SELECT", "INSERT", "SELECT"]


def written_by_a_scan(scan, registration, event_id) -> tuple[list[str], dict, dict, dict]:
    """What a scan through the API sends and writes and answers: its
    statements, its log line, its domain event (the outbox) and its answer,
    with what differs from one ticket to the next replaced by placeholders."""
    from eventmaster.models import DomainEvent

    with CaptureQueriesContext(connection) as captured:
        response = scan(registration.ticket_code, event_id=event_id, nonce=str(uuid.uuid4()), device="door-1")
    answer = body_of(response, "ok")
    statements = [q["sql"].split()[0].upper() for q in scan_queries(captured)]
    line = Scan.objects.values().latest("id")
    outbox = DomainEvent.objects.values().latest("id")
    checked_in_at = parse_datetime(answer["checked_in_at"])
    assert outbox["data"] == {
        "changes": {"checked_in_at": [None, DjangoJSONEncoder().default(checked_in_at)]}
    }
    assert outbox["object_id"] == str(registration.pk) == line["registration_id"].__str__()
    assert line["created_at"].isoformat().replace("+00:00", "Z") == answer["checked_in_at"]
    assert answer["registration"]["checked_in_at"] == answer["checked_in_at"]
    ticket = answer["registration"]
    assert (ticket["id"], ticket["user"]["id"]) == (str(registration.pk), str(registration.user_id))
    placeholders = {
        "id": "<id>", "nonce": "<nonce>", "ticket_code": "<code>", "created_at": "<at>", "occurred_at": "<at>",
        "registration_id": "<registration>", "object_id": "<registration>", "data": "<data>",
        "checked_in_at": "<at>",
    }  # fmt: skip
    for row in (line, outbox, answer):
        row.update({name: value for name, value in placeholders.items() if name in row})
    answer["registration"] = {
        **ticket,
        "id": "<registration>", "ticket_code": "<code>", "created_at": "<at>", "checked_in_at": "<at>",
        "user": {**ticket["user"], "id": "<user>", "full_name": "<name>", "email": "<email>"},
    }  # fmt: skip
    return statements, line, outbox, answer


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite takes the general path only")
@pytest.mark.django_db(transaction=True)  # autocommit, as in production
def test_a_first_entry_at_once_writes_what_the_general_path_writes(scan, organizer, event, monkeypatch):
    """The one-statement first entry (checkin.services._first_entry_at_once)
    leaves the same log line, domain event and answer as the general path;
    the webhooks' dispatch is queued after it as after any domain event."""
    from checkin import services
    from eventmaster import audit

    first, second = (registration_create(event=event, user=UserFactory()) for _ in range(2))
    dispatched = []
    monkeypatch.setattr(audit, "_AFTER_COMMIT", [lambda: dispatched.append(True)])
    statements, *at_once = written_by_a_scan(scan, first, event.pk)
    assert statements == ["SELECT", "WITH"]  # the one statement, in autocommit
    assert dispatched == [True]
    monkeypatch.setattr(services, "_first_entry_at_once", lambda **kwargs: None)
    statements, *general = written_by_a_scan(scan, second, event.pk)
    assert statements == ["SELECT", "BEGIN", "SELECT", "WITH", "COMMIT"]  # the general path
    assert at_once == general
    for registration in (first, second):
        registration.refresh_from_db()
        assert (registration.checked_in_by, registration.checked_in_device) == (organizer, "door-1")
        assert Scan.objects.get(registration=registration).created_at == registration.checked_in_at


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite takes the general path only")
@pytest.mark.django_db(transaction=True)
def test_a_first_entry_at_once_raises_an_error_that_is_not_a_retry(rf, registration, event, monkeypatch):
    """Through the API (no audit entry), an integrity error of the one
    statement that is not the nonce's (here a real one: a scanning user
    that does not exist) is raised as itself, not taken for a retry, and
    nothing is written."""
    from django.db import IntegrityError

    from checkin import services
    from eventmaster import audit

    def general_path(**kwargs):
        raise AssertionError("the one statement did not raise")

    monkeypatch.setattr(services, "_scan", general_path)
    ghost = UserFactory.build()  # never saved: the scan's foreign keys to it fail
    request = rf.post("/api/v1/checkin")
    request.user = ghost
    with audit.in_request(request), pytest.raises(IntegrityError, match="by_id"):
        services.checkin_scan(ticket_code=registration.ticket_code, event=event, by=ghost, nonce=uuid.uuid4())
    assert not Scan.objects.exists()
    registration.refresh_from_db()
    assert registration.checked_in_at is None


@pytest.mark.django_db(transaction=True)
def test_door_staff_scan_in_5_queries_too(scan, registration, staff_client):
    """The door check reads the staff assignment with the event
    (events.selectors.event_get_for_door), not in a query of its own."""
    with CaptureQueriesContext(connection) as captured:
        body_of(scan(registration.ticket_code, client=staff_client), "ok")
    data = [q["sql"].split()[0].upper() for q in scan_queries(captured)]
    scan_itself = ["WITH"] if connection.vendor == "postgresql" else ["SELECT", "UPDATE", "INSERT", "INSERT"]
    assert [s for s in data if s in {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}] == [
        "SELECT", *scan_itself
    ], captured.captured_queries  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_wrong_event_scan_also_stays_within_5_queries(scan, organizer, member):
    other = EventFactory(organizer=organizer, title="Elsewhere")
    ticket = registration_create(event=other, user=member)
    with CaptureQueriesContext(connection) as captured:
        body = body_of(scan(ticket.ticket_code), "wrong_event")
    assert body["registration"] == {"event": {"id": str(other.pk), "title": "Elsewhere"}}
    data = [q["sql"].split()[0].upper() for q in captured.captured_queries]
    data = [s for s in data if s in {"SELECT", "INSERT", "UPDATE", "DELETE"}]
    # user with roles, the scanned-at event, the locked ticket, the log, the ticket's own event
    assert len(data) <= 5, captured.captured_queries


def test_only_the_nonce_constraint_makes_a_retry(registration, event, organizer, monkeypatch):
    """Any other integrity error of the scan's writes is raised as itself,
    not taken for a retry (whose replay would find no original scan)."""
    from django.db import IntegrityError

    from checkin import services

    def broken(*args, **kwargs):
        raise IntegrityError("some other constraint")

    monkeypatch.setattr(services, "registration_record", broken)
    with pytest.raises(IntegrityError, match="some other constraint"):
        services.checkin_scan(
            ticket_code=registration.ticket_code, event=event, by=organizer, nonce=uuid.uuid4()
        )
    assert not Scan.objects.exists()
