"""Every row of docs/api.md's Registrations table: successes, error codes, roles."""

import csv
import io
import uuid
from datetime import timedelta

import pytest
import segno
from django.utils import timezone

from accounts.tests.factories import UserFactory
from eventmaster.tests.utils import assert_error, client_for
from events.models import Event
from events.tests.factories import EventFactory
from registrations.models import Registration
from registrations.services import registration_cancel, registration_create
from registrations.tests.factories import RegistrationFactory

pytestmark = pytest.mark.django_db

REGISTRATION_FIELDS = {
    "id", "status", "event", "user", "ticket_code", "waitlist_position", "checked_in_at", "created_at",
    "cancelled_at", "cancel_reason",
}  # fmt: skip


def reg_url(registration, suffix: str = "") -> str:
    return f"/api/v1/registrations/{registration.pk}{suffix}"


def register_url(event) -> str:
    return f"/api/v1/events/{event.pk}/registrations"


class TestRegister:
    def test_confirmed_then_waitlisted(self, event):
        bodies = [client_for(UserFactory()).post(register_url(event)) for _ in range(3)]
        assert [b.status_code for b in bodies] == [201, 201, 201]
        first, _, third = (b.json() for b in bodies)
        assert set(first) == REGISTRATION_FIELDS
        assert (first["status"], first["waitlist_position"], first["cancel_reason"]) == (
            "confirmed",
            None,
            None,
        )
        assert first["event"] == {
            "id": str(event.pk),
            "title": event.title,
            "start_at": event.start_at.isoformat().replace("+00:00", "Z"),
            "end_at": event.end_at.isoformat().replace("+00:00", "Z"),
            "location": event.location,
        }
        assert first["ticket_code"]
        assert (third["status"], third["waitlist_position"]) == ("waitlisted", 1)

    def test_full_without_waitlist_is_409_event_full(self, member_client):
        event = EventFactory(capacity=1, waitlist_enabled=False)
        registration_create(event=event, user=UserFactory())
        assert_error(member_client.post(register_url(event)), 409, "event_full")

    def test_twice_is_409_already_registered(self, member_client, registration, event):
        assert_error(member_client.post(register_url(event)), 409, "already_registered")

    @pytest.mark.parametrize(
        "kwargs",
        [{"status": "cancelled"}, {"start_at": timezone.now() - timedelta(minutes=5)}],
        ids=["cancelled", "started"],
    )
    def test_closed_events_are_409(self, member_client, kwargs):
        assert_error(member_client.post(register_url(EventFactory(**kwargs))), 409, "registration_closed")

    def test_own_draft_is_409_but_a_stranger_gets_404(self, organizer_client, member_client, organizer):
        draft = EventFactory(organizer=organizer, status=Event.Status.DRAFT)
        assert_error(organizer_client.post(register_url(draft)), 409, "registration_closed")
        assert_error(member_client.post(register_url(draft)), 404, "not_found")

    def test_unknown_event_is_404_and_anonymous_401(self, member_client, api_client, event):
        assert_error(member_client.post(f"/api/v1/events/{uuid.uuid4()}/registrations"), 404, "not_found")
        assert_error(api_client.post(register_url(event)), 401, "not_authenticated")

    @pytest.mark.parametrize("key", [None, "retry-1"], ids=["plain", "idempotency-key"])
    def test_who_sees_a_draft_is_decided_on_the_locked_row(
        self, key, organizer, organizer_client, member_client, checkin_user, admin_client
    ):
        """The sign-up reads its event once, locked: the same answers with and
        without an Idempotency-Key, and nothing written for a 404."""
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        draft = EventFactory(organizer=organizer, status=Event.Status.DRAFT)
        assert_error(member_client.post(register_url(draft), **headers), 404, "not_found")
        unknown = f"/api/v1/events/{uuid.uuid4()}/registrations"
        assert_error(member_client.post(unknown, **headers), 404, "not_found")
        draft.staff.add(checkin_user)  # assigned door staff see it: closed, not hidden
        assert_error(
            client_for(checkin_user).post(register_url(draft), **headers), 409, "registration_closed"
        )
        for client in (organizer_client, admin_client):
            assert_error(client.post(register_url(draft), **headers), 409, "registration_closed")
        assert not Registration.objects.filter(event=draft).exists()


class TestMyRegistrations:
    def test_newest_first_with_filters(self, member_client, member):
        past = EventFactory(start_at=timezone.now() - timedelta(days=2))
        old = RegistrationFactory(user=member, event=past, created_at=timezone.now() - timedelta(days=10))
        upcoming = [registration_create(event=EventFactory(), user=member) for _ in range(2)]
        RegistrationFactory()  # someone else's

        def ids(query=""):
            response = member_client.get(f"/api/v1/me/registrations{query}")
            assert response.status_code == 200, response.content
            return [item["id"] for item in response.json()["items"]]

        assert ids() == [str(upcoming[1].pk), str(upcoming[0].pk), str(old.pk)]
        assert ids("?upcoming=true") == [str(upcoming[1].pk), str(upcoming[0].pk)]
        assert ids("?upcoming=false") == [str(old.pk)]
        registration_cancel(registration=upcoming[0], by=member)
        assert ids("?status=cancelled") == [str(upcoming[0].pk)]
        assert ids("?status=confirmed&upcoming=true") == [str(upcoming[1].pk)]

    @pytest.mark.parametrize("query", ["?status=pending", "?upcoming=soon", "?offset=-1"])
    def test_bad_filters_are_400(self, member_client, query):
        assert member_client.get(f"/api/v1/me/registrations{query}").status_code == 400

    def test_anonymous_is_401(self, api_client):
        assert_error(api_client.get("/api/v1/me/registrations"), 401, "not_authenticated")

    def test_query_count_is_flat(self, member_client, member, django_assert_num_queries):
        for _ in range(30):
            registration_create(
                event=EventFactory(capacity=1), user=UserFactory()
            )  # fill: waitlist positions
            registration_create(event=Event.objects.latest("created_at"), user=member)
        for limit in (1, 100):
            with django_assert_num_queries(3):  # user with roles, count, page (events joined)
                member_client.get(f"/api/v1/me/registrations?limit={limit}")


class TestDetail:
    @pytest.mark.parametrize("client_fixture", ["member_client", "organizer_client", "admin_client"])
    def test_attendee_owner_admin_see_it_with_the_ticket(self, request, client_fixture, registration):
        body = request.getfixturevalue(client_fixture).get(reg_url(registration)).json()
        assert body["id"] == str(registration.pk) and body["ticket_code"] == registration.ticket_code

    def test_assigned_staff_see_it_without_the_ticket(self, staff_client, registration):
        body = staff_client.get(reg_url(registration)).json()
        assert body["id"] == str(registration.pk) and body["ticket_code"] is None

    @pytest.mark.parametrize("client_fixture", ["checkin_client"])
    def test_strangers_get_404(self, request, client_fixture, registration):
        other_member = client_for(UserFactory())
        other_organizer = client_for(EventFactory().organizer)
        for client in (request.getfixturevalue(client_fixture), other_member, other_organizer):
            assert_error(client.get(reg_url(registration)), 404, "not_found")

    def test_anonymous_401_and_unknown_404(self, api_client, member_client, registration):
        assert_error(api_client.get(reg_url(registration)), 401, "not_authenticated")
        assert_error(member_client.get(f"/api/v1/registrations/{uuid.uuid4()}"), 404, "not_found")


class TestCancel:
    def test_attendee_cancels_and_the_waitlist_moves(self, member_client, registration, event):
        registration_create(event=event, user=UserFactory())
        waiting = registration_create(event=event, user=UserFactory())
        body = member_client.post(reg_url(registration, "/cancel")).json()
        assert (body["status"], body["cancel_reason"]) == ("cancelled", "attendee_cancelled")
        assert body["cancelled_at"] is not None
        waiting.refresh_from_db()
        assert waiting.status == "confirmed"
        assert_error(member_client.post(reg_url(registration, "/cancel")), 409, "already_cancelled")

    @pytest.mark.parametrize("client_fixture", ["organizer_client", "admin_client"])
    def test_owner_and_admin_cancel_for_the_attendee(self, request, client_fixture, registration):
        body = request.getfixturevalue(client_fixture).post(reg_url(registration, "/cancel")).json()
        assert (body["status"], body["cancel_reason"]) == ("cancelled", "organizer_cancelled")

    def test_checked_in_is_409(self, member_client, registration):
        Registration.objects.filter(pk=registration.pk).update(checked_in_at=timezone.now())
        assert_error(member_client.post(reg_url(registration, "/cancel")), 409, "already_checked_in")

    def test_staff_403_strangers_404_anonymous_401(self, staff_client, api_client, registration):
        assert_error(staff_client.post(reg_url(registration, "/cancel")), 403, "permission_denied")
        assert_error(client_for(UserFactory()).post(reg_url(registration, "/cancel")), 404, "not_found")
        assert_error(api_client.post(reg_url(registration, "/cancel")), 401, "not_authenticated")
        registration.refresh_from_db()
        assert registration.status == "confirmed"


class TestQr:
    @pytest.mark.parametrize(
        ("suffix", "content_type"), [("/qr.svg", "image/svg+xml"), ("/qr.png", "image/png")]
    )
    @pytest.mark.parametrize("accept", ["application/json", "image/png", "text/html", "*/*"])
    def test_ticket_qr_whatever_the_accept_header(
        self, member_client, registration, suffix, content_type, accept
    ):
        response = member_client.get(reg_url(registration, suffix), HTTP_ACCEPT=accept)
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        if suffix == "/qr.png":
            assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
        else:
            assert response.content.lstrip().startswith(b"<?xml") and b"<svg" in response.content

    def test_encodes_the_signed_ticket(self, member_client, registration):
        from registrations import signing

        expected = io.BytesIO()
        segno.make(signing.sign(registration), error="m", micro=False).save(
            expected, kind="svg", scale=8, border=4
        )
        assert member_client.get(reg_url(registration, "/qr.svg")).content == expected.getvalue()

    def test_waitlisted_and_cancelled_are_409(self, member_client, member):
        event = EventFactory(capacity=1)
        registration_create(event=event, user=UserFactory())
        waitlisted = registration_create(event=event, user=member)
        assert_error(member_client.get(reg_url(waitlisted, "/qr.png")), 409, "ticket_not_confirmed")
        member_client.post(reg_url(waitlisted, "/cancel"))
        assert_error(member_client.get(reg_url(waitlisted, "/qr.svg")), 409, "ticket_not_confirmed")

    def test_roles(self, organizer_client, admin_client, staff_client, api_client, registration):
        assert organizer_client.get(reg_url(registration, "/qr.png")).status_code == 200
        assert admin_client.get(reg_url(registration, "/qr.png")).status_code == 200
        assert_error(staff_client.get(reg_url(registration, "/qr.png")), 403, "permission_denied")
        assert_error(client_for(UserFactory()).get(reg_url(registration, "/qr.png")), 404, "not_found")
        assert_error(
            api_client.get(reg_url(registration, "/qr.png"), HTTP_ACCEPT="image/png"),
            401,
            "not_authenticated",
        )


class TestAttendees:
    def url(self, event, suffix=""):
        return f"/api/v1/events/{event.pk}/attendees{suffix}"

    def test_lists_every_registration_with_filters(self, organizer_client, event):
        ann = registration_create(
            event=event, user=UserFactory(full_name="Ann Archer", email="ann@example.org")
        )
        bob = registration_create(event=event, user=UserFactory(full_name="Bob Baker"))
        cat = registration_create(event=event, user=UserFactory(full_name="Cat Cole"))
        Registration.objects.filter(pk=bob.pk).update(checked_in_at=timezone.now())

        def ids(query=""):
            response = organizer_client.get(self.url(event, query))
            assert response.status_code == 200, response.content
            return [item["id"] for item in response.json()["items"]]

        assert ids() == [str(ann.pk), str(bob.pk), str(cat.pk)]
        assert ids("?status=waitlisted") == [str(cat.pk)]
        assert ids("?checked_in=true") == [str(bob.pk)]
        assert ids("?checked_in=false") == [str(ann.pk), str(cat.pk)]
        assert ids("?q=ANN@") == [str(ann.pk)]
        assert ids("?q=baker") == [str(bob.pk)]
        item = organizer_client.get(self.url(event)).json()["items"][0]
        assert item["user"] == {"id": str(ann.user_id), "full_name": "Ann Archer", "email": "ann@example.org"}

    def test_roles(self, admin_client, staff_client, member_client, api_client, event, registration):
        assert admin_client.get(self.url(event)).json()["total"] == 1
        staff_view = staff_client.get(self.url(event)).json()
        assert staff_view["total"] == 1 and staff_view["items"][0]["ticket_code"] is None
        assert_error(member_client.get(self.url(event)), 403, "permission_denied")
        assert_error(client_for(EventFactory().organizer).get(self.url(event)), 403, "permission_denied")
        assert_error(api_client.get(self.url(event)), 401, "not_authenticated")

    def test_drafts_are_404_to_strangers(self, member_client, organizer):
        draft = EventFactory(organizer=organizer, status=Event.Status.DRAFT)
        assert_error(member_client.get(self.url(draft)), 404, "not_found")
        assert_error(member_client.get(self.url(draft, ".csv")), 404, "not_found")

    @pytest.mark.parametrize("query", ["?status=maybe", "?checked_in=yes", "?q=%00", "?limit=abc"])
    def test_bad_filters_are_400(self, organizer_client, event, query):
        assert organizer_client.get(self.url(event, query)).status_code == 400

    def test_query_count_is_flat(self, organizer_client, organizer, django_assert_num_queries):
        event = EventFactory(organizer=organizer, capacity=50)
        for _ in range(120):
            registration_create(event=event, user=UserFactory())
        for limit in (1, 100):
            with django_assert_num_queries(4):  # user with roles, event, count, page
                organizer_client.get(self.url(event, f"?limit={limit}"))

    def test_csv_has_a_header_and_a_row_per_registration(self, organizer_client, event):
        ann = registration_create(
            event=event, user=UserFactory(full_name="=HYPERLINK(evil)", email="a@example.org")
        )
        bob = registration_create(event=event, user=UserFactory(full_name="Bob, Jr."))
        when = timezone.now()
        Registration.objects.filter(pk=bob.pk).update(checked_in_at=when)
        response = organizer_client.get(self.url(event, ".csv"), HTTP_ACCEPT="application/json")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert response.streaming
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[0] == [
            "registration_id",
            "full_name",
            "email",
            "status",
            "registered_at",
            "checked_in_at",
        ]
        assert rows[1][0] == str(ann.pk) and rows[1][1] == "'=HYPERLINK(evil)"  # no formula injection
        assert rows[2][1:4] == ["Bob, Jr.", bob.user.email, "confirmed"]
        assert rows[2][5] == when.isoformat().replace("+00:00", "Z") and rows[1][5] == ""
        assert len(rows) == 3

    def test_csv_roles(self, admin_client, staff_client, member_client, api_client, event, registration):
        assert admin_client.get(self.url(event, ".csv")).status_code == 200
        assert_error(staff_client.get(self.url(event, ".csv")), 403, "permission_denied")
        assert_error(member_client.get(self.url(event, ".csv")), 403, "permission_denied")
        assert_error(api_client.get(self.url(event, ".csv")), 401, "not_authenticated")


def test_a_sign_up_is_two_statements_on_postgresql_six_on_sqlite(
    member_client, event, settings, django_capture_on_commit_callbacks
):
    """The caller with their roles, then the event's counter UPDATE (which
    takes its row lock and decides: published, not started, a free seat),
    the registration, its mail and its domain event (the outbox; an
    attendee's own sign-up is not audited) in one statement on PostgreSQL
    (registrations.services._confirm_at_once), in autocommit. Nothing asks
    whether the caller is already registered (the unique constraint
    answers), and no mail is built in the request. The mail's sweep task is
    queued by the first sign-up of the process's window only. SQLite, and
    a sign-up that is not a plain confirmation (a waitlist, below), go the
    general way: the event locked, then the four writes (one statement on
    PostgreSQL, eventmaster.db.together)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.MAIL_SEND_WINDOW_SECONDS = 60  # the sign-ups in one window

    def sign_up(client) -> tuple[list[str], list[str]]:
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
            assert client.post(f"/api/v1/events/{event.pk}/registrations").status_code == 201
        statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
        # Plus, at most once a second per process, the webhooks' dispatch task.
        assert len([sql for sql in statements if "dispatch_webhooks" in sql]) <= 1
        sweeps = [sql for sql in statements if "send_sweep" in sql]
        return [sql for sql in statements if "dispatch_webhooks" not in sql and sql not in sweeps], sweeps

    first, first_sweeps = sign_up(member_client)
    statements, sweeps = sign_up(client_for(UserFactory()))
    assert len(first_sweeps) == 1 and sweeps == []
    assert len(first) == len(statements)
    Event.objects.filter(pk=event.pk).update(capacity=2, waitlist_enabled=True)
    waitlisted, _ = sign_up(client_for(UserFactory()))
    if connection.vendor == "postgresql":
        assert len(statements) == 2, statements
        one = statements[1]
        assert one.lstrip().startswith("WITH") and one.count("INSERT INTO") == 3 and "UPDATE" in one
        # The one statement first (it changes nothing: no free seat), then the general way.
        assert len(waitlisted) == 4, waitlisted
        writes = waitlisted[3]
        assert writes.startswith("WITH") and writes.count("INSERT INTO") == 2 and "UPDATE" in writes
    else:
        assert len(statements) == 6, statements
        assert len(waitlisted) == 5, waitlisted  # no mail for a waitlisted sign-up
    assert not any("auditentry" in sql for sql in statements)
    assert member_client.post(f"/api/v1/events/{event.pk}/registrations").json()["errors"][0]["code"] == (
        "already_registered"
    )
