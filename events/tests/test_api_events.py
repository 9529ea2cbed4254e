"""Every row of docs/api.md's Events table: successes, error codes, roles."""

import uuid
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from django.utils import timezone

from accounts.services import user_revoke_role
from accounts.tests.factories import UserFactory
from eventmaster.roles import Role
from eventmaster.tests.utils import assert_error, client_for
from events.models import Event
from events.tests.factories import EventFactory
from registrations.models import Registration
from registrations.services import registration_create
from registrations.tests.factories import RegistrationFactory

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/events"
VALID = {
    "title": "PyCon Lunch",
    "description": "<p>Food</p>",
    "location": "Hall A",
    "start_at": "2030-05-01T18:00:00Z",
    "end_at": "2030-05-01T20:00:00Z",
    "capacity": 30,
}
EVENT_FIELDS = {
    "id", "title", "description", "location", "start_at", "end_at", "capacity", "status", "waitlist_enabled",
    "organizer", "registered_count", "waitlist_count", "available_slots", "is_full", "created_at", "updated_at",
}  # fmt: skip


def url(event, suffix: str = "") -> str:
    return f"{EVENTS}/{event.pk}{suffix}"


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


class TestPublicList:
    def test_anyone_sees_published_upcoming_events_only(self, api_client, organizer):
        published = EventFactory()
        EventFactory(status=Event.Status.DRAFT)
        EventFactory(status=Event.Status.CANCELLED)
        EventFactory(start_at=timezone.now() - timedelta(hours=1))
        response = api_client.get(EVENTS)
        assert ids(response) == [str(published.pk)]
        item = response.json()["items"][0]
        assert set(item) == EVENT_FIELDS
        assert item["organizer"] == {
            "id": str(published.organizer_id),
            "full_name": published.organizer.full_name,
        }

    def test_include_past(self, api_client):
        past = EventFactory(start_at=timezone.now() - timedelta(days=1))
        upcoming = EventFactory()
        assert ids(api_client.get(f"{EVENTS}?include_past=true")) == [str(past.pk), str(upcoming.pk)]
        assert ids(api_client.get(f"{EVENTS}?include_past=false")) == [str(upcoming.pk)]

    def test_counts(self, api_client):
        event = EventFactory(capacity=2)
        for _ in range(3):
            registration_create(event=event, user=UserFactory())
        item = api_client.get(EVENTS).json()["items"][0]
        assert (
            item["registered_count"],
            item["waitlist_count"],
            item["available_slots"],
            item["is_full"],
        ) == (
            2,
            1,
            0,
            True,
        )
        assert api_client.get(url(event)).json()["registered_count"] == 2

    def test_search_and_date_filters(self, api_client):
        now = timezone.now()
        a = EventFactory(title="Django Girls", start_at=now + timedelta(days=1))
        b = EventFactory(
            title="x", description="<p>all about <b>DJANGO</b></p>", start_at=now + timedelta(days=5)
        )
        c = EventFactory(title="y", location="Djangoland", start_at=now + timedelta(days=9))
        EventFactory(title="Rust night", start_at=now + timedelta(days=3))
        assert ids(api_client.get(f"{EVENTS}?q=django")) == [str(a.pk), str(b.pk), str(c.pk)]
        after = (now + timedelta(days=2)).isoformat().replace("+00:00", "Z")
        before = (now + timedelta(days=6)).isoformat().replace("+00:00", "Z")
        assert ids(api_client.get(f"{EVENTS}?q=django&starts_after={after}")) == [str(b.pk), str(c.pk)]
        assert ids(api_client.get(f"{EVENTS}?q=django&starts_before={before}")) == [str(a.pk), str(b.pk)]

    def test_date_filters_need_an_offset_on_both_lists(self, organizer_client):
        for path in (EVENTS, f"{EVENTS}/managed"):
            for name in ("starts_after", "starts_before"):
                response = organizer_client.get(f"{path}?{name}=2030-05-01T18:00:00")
                assert_error(response, 400, "invalid", attr=name)

    def test_date_filters_with_an_offset_or_a_date_alone(self, organizer_client, organizer):
        early = EventFactory(organizer=organizer, start_at=datetime(2030, 5, 1, 17, 30, tzinfo=UTC))
        late = EventFactory(organizer=organizer, start_at=datetime(2030, 5, 1, 18, 30, tzinfo=UTC))
        for path in (EVENTS, f"{EVENTS}/managed"):
            # 20:00+02:00 is 18:00 UTC.
            assert ids(organizer_client.get(f"{path}?starts_after=2030-05-01T20:00:00%2B02:00")) == [
                str(late.pk)
            ]
            assert ids(organizer_client.get(f"{path}?starts_before=2030-05-01T18:00Z")) == [str(early.pk)]
            assert ids(organizer_client.get(f"{path}?starts_after=2030-05-01&starts_before=2030-05-02")) == [
                str(early.pk),
                str(late.pk),
            ]
            assert ids(organizer_client.get(f"{path}?starts_after=2030-05-02")) == []

    def test_organizer_and_available_filters(self, api_client, organizer):
        mine = EventFactory(organizer=organizer, capacity=1)
        other = EventFactory()
        assert ids(api_client.get(f"{EVENTS}?organizer={organizer.pk}")) == [str(mine.pk)]
        registration_create(event=mine, user=UserFactory())
        assert ids(api_client.get(f"{EVENTS}?available=true")) == [str(other.pk)]
        assert ids(api_client.get(f"{EVENTS}?available=false")) == [str(mine.pk)]

    def test_orderings(self, api_client):
        now = timezone.now()
        b = EventFactory(title="b", start_at=now + timedelta(days=1))
        a = EventFactory(title="a", start_at=now + timedelta(days=2))
        c = EventFactory(title="c", start_at=now + timedelta(days=3))
        expected = {
            "start_at": [b, a, c],
            "-start_at": [c, a, b],
            "title": [a, b, c],
            "-title": [c, b, a],
            "created_at": [b, a, c],
            "-created_at": [c, a, b],
        }
        assert ids(api_client.get(EVENTS)) == [str(e.pk) for e in expected["start_at"]]
        for ordering, events in expected.items():
            assert ids(api_client.get(f"{EVENTS}?ordering={ordering}")) == [str(e.pk) for e in events], (
                ordering
            )

    @pytest.mark.parametrize(
        ("query", "attr"),
        [
            ("starts_after=yesterday", "starts_after"),
            ("starts_before=2030-13-01", "starts_before"),
            ("starts_after=2030-05-01T18:00:00", "starts_after"),
            ("starts_before=2030-05-01T18:00", "starts_before"),
            ("starts_before=2030-05-01 18:00:00", "starts_before"),
            ("organizer=not-a-uuid", "organizer"),
            ("available=yes", "available"),
            ("include_past=1", "include_past"),
            ("ordering=capacity", "ordering"),
            ("q=%00", "q"),
            ("limit=0", "limit"),
        ],
    )
    def test_bad_filter_values_are_400(self, api_client, query, attr):
        response = api_client.get(f"{EVENTS}?{query}")
        assert response.status_code == 400, response.content
        assert response.json()["type"] == "validation_error"
        assert response.json()["errors"][0]["attr"] == attr

    def test_query_count_is_flat(self, api_client, django_assert_num_queries):
        for _ in range(30):
            event = EventFactory()
            RegistrationFactory(event=event)
        for limit in (1, 100):
            with django_assert_num_queries(2):  # count + page (counts are columns of the event row)
                assert len(api_client.get(f"{EVENTS}?limit={limit}").json()["items"]) == min(limit, 30)


class TestCreate:
    @pytest.mark.parametrize("client_fixture", ["organizer_client", "admin_client"])
    def test_organizer_and_admin_create_drafts_they_organize(self, request, client_fixture):
        client = request.getfixturevalue(client_fixture)
        response = client.post(EVENTS, VALID)
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["status"] == "draft"
        assert body["organizer"]["id"] == str(client.user.pk)
        assert (body["registered_count"], body["available_slots"], body["is_full"]) == (0, 30, False)
        assert body["start_at"] == "2030-05-01T18:00:00Z"
        assert body["waitlist_enabled"] is True

    def test_created_published_when_asked(self, organizer_client, api_client):
        body = organizer_client.post(EVENTS, {**VALID, "status": "published"}).json()
        assert body["status"] == "published"
        assert ids(api_client.get(EVENTS)) == [body["id"]]

    def test_cannot_create_cancelled(self, organizer_client):
        assert_error(
            organizer_client.post(EVENTS, {**VALID, "status": "cancelled"}), 400, "invalid_choice", "status"
        )

    @pytest.mark.parametrize("client_fixture", ["member_client", "checkin_client"])
    def test_members_and_door_staff_are_403(self, request, client_fixture):
        response = request.getfixturevalue(client_fixture).post(EVENTS, VALID)
        assert_error(response, 403, "permission_denied")
        assert not Event.objects.exists()

    def test_anonymous_is_401(self, api_client):
        assert_error(api_client.post(EVENTS, VALID), 401, "not_authenticated")

    @pytest.mark.parametrize(
        ("change", "code", "attr"),
        [
            ({"title": ""}, "blank", "title"),
            ({"title": "x" * 201}, "max_length", "title"),
            ({"title": "<script>alert(1)</script>"}, "blank", "title"),
            ({"end_at": "2030-05-01T18:00:00Z"}, "end_before_start", "end_at"),
            ({"end_at": "2030-05-01T17:00:00Z"}, "end_before_start", "end_at"),
            ({"capacity": 0}, "min_value", "capacity"),
            ({"capacity": -3}, "min_value", "capacity"),
            ({"capacity": 10**12}, "max_value", "capacity"),
            ({"capacity": "many"}, "invalid", "capacity"),
            ({"start_at": "soon"}, "invalid", "start_at"),
            ({"start_at": "2030-05-01T18:00:00"}, "invalid", "start_at"),
            ({"end_at": "2030-05-01T20:00:00.5"}, "invalid", "end_at"),
            ({"start_at": "2030-05-01 18:00"}, "invalid", "start_at"),
            ({"start_at": 1893520800}, "invalid", "start_at"),
            ({"waitlist_enabled": "perhaps"}, "invalid", "waitlist_enabled"),
            # Other JSON types than the schema's (DRF would store "42", 5, True).
            ({"title": 42}, "invalid", "title"),
            ({"location": False}, "invalid", "location"),
            ({"capacity": "5"}, "invalid", "capacity"),
            ({"capacity": True}, "invalid", "capacity"),
            ({"waitlist_enabled": 1}, "invalid", "waitlist_enabled"),
        ],
    )
    def test_validation(self, organizer_client, change, code, attr):
        assert_error(organizer_client.post(EVENTS, {**VALID, **change}), 400, code, attr=attr)
        assert not Event.objects.exists()

    @pytest.mark.parametrize(
        ("start_at", "end_at", "stored"),
        [
            ("2030-05-01T20:00:00+02:00", "2030-05-01T22:00:00+02:00", "2030-05-01T18:00:00Z"),
            ("2030-05-01T18:00:00Z", "2030-05-01T20:00:00-00:00", "2030-05-01T18:00:00Z"),
            ("2030-05-01", "2030-05-02", "2030-05-01T00:00:00Z"),
        ],
    )
    def test_datetimes_with_an_offset_or_dates_alone(self, organizer_client, start_at, end_at, stored):
        response = organizer_client.post(EVENTS, {**VALID, "start_at": start_at, "end_at": end_at})
        assert response.status_code == 201, response.content
        assert response.json()["start_at"] == stored

    def test_missing_fields(self, organizer_client):
        response = organizer_client.post(EVENTS, {})
        for field in ("title", "start_at", "end_at", "capacity"):
            assert_error(response, 400, "required", attr=field)


class TestManagedList:
    def test_organizer_sees_own_events_any_status_past_included(self, organizer_client, organizer):
        mine = [
            EventFactory(organizer=organizer, status=status, start_at=timezone.now() + timedelta(days=d))
            for d, status in ((-3, "published"), (1, "draft"), (2, "cancelled"))
        ]
        EventFactory()
        assert ids(organizer_client.get(f"{EVENTS}/managed")) == [str(e.pk) for e in mine]
        assert ids(organizer_client.get(f"{EVENTS}/managed?status=draft")) == [str(mine[1].pk)]
        assert ids(organizer_client.get(f"{EVENTS}/managed?include_past=false&status=published")) == []

    def test_admin_sees_all(self, admin_client):
        events = [EventFactory(), EventFactory(status=Event.Status.DRAFT)]
        assert set(ids(admin_client.get(f"{EVENTS}/managed"))) == {str(e.pk) for e in events}

    def test_door_staff_see_assigned_events_only(self, staff_client, event, draft):
        EventFactory()
        assert set(ids(staff_client.get(f"{EVENTS}/managed"))) == {str(event.pk), str(draft.pk)}

    def test_member_is_403_and_anonymous_401(self, member_client, api_client):
        assert_error(member_client.get(f"{EVENTS}/managed"), 403, "permission_denied")
        assert_error(api_client.get(f"{EVENTS}/managed"), 401, "not_authenticated")

    def test_bad_status_is_400(self, organizer_client):
        assert_error(
            organizer_client.get(f"{EVENTS}/managed?status=open"), 400, "invalid_choice", attr="status"
        )

    def test_query_count_is_flat(self, organizer_client, organizer, django_assert_num_queries):
        for _ in range(30):
            RegistrationFactory(event=EventFactory(organizer=organizer))
        for limit in (1, 100):
            with django_assert_num_queries(3):  # the user with their roles, count, page
                organizer_client.get(f"{EVENTS}/managed?limit={limit}")


class TestDetail:
    def test_published_and_cancelled_are_public(self, api_client):
        for status in ("published", "cancelled"):
            event = EventFactory(status=status)
            response = api_client.get(url(event))
            assert response.status_code == 200 and set(response.json()) == EVENT_FIELDS

    @pytest.mark.parametrize("client_fixture", ["organizer_client", "admin_client", "staff_client"])
    def test_draft_visible_to_owner_admin_and_assigned_staff(self, request, client_fixture, draft):
        assert request.getfixturevalue(client_fixture).get(url(draft)).status_code == 200

    @pytest.mark.parametrize(
        "client_fixture", ["api_client", "member_client", "other_organizer_client", "checkin_client"]
    )
    def test_draft_is_404_to_everyone_else(self, request, client_fixture, draft):
        assert_error(request.getfixturevalue(client_fixture).get(url(draft)), 404, "not_found")

    def test_unknown_and_malformed_ids_are_404(self, api_client):
        assert_error(api_client.get(f"{EVENTS}/{uuid.uuid4()}"), 404, "not_found")
        assert_error(api_client.get(f"{EVENTS}/12345"), 404, "not_found")


class TestUpdate:
    @pytest.mark.parametrize("client_fixture", ["organizer_client", "admin_client"])
    def test_owner_and_admin_may_edit(self, request, client_fixture, event):
        response = request.getfixturevalue(client_fixture).patch(
            url(event), {"title": "Renamed", "capacity": 99}
        )
        assert response.status_code == 200, response.content
        assert (response.json()["title"], response.json()["capacity"]) == ("Renamed", 99)

    @pytest.mark.parametrize("client_fixture", ["member_client", "other_organizer_client", "staff_client"])
    def test_others_who_can_see_it_are_403(self, request, client_fixture, event):
        response = request.getfixturevalue(client_fixture).patch(url(event), {"title": "Mine now"})
        assert_error(response, 403, "permission_denied")
        event.refresh_from_db()
        assert event.title != "Mine now"

    def test_strangers_get_404_for_drafts_and_anonymous_401(self, other_organizer_client, api_client, draft):
        assert_error(other_organizer_client.patch(url(draft), {"title": "x"}), 404, "not_found")
        assert_error(api_client.patch(url(draft), {"title": "x"}), 401, "not_authenticated")

    def test_organizer_who_lost_the_role_cannot_edit(self, organizer_client, organizer, event):
        organizer.groups.remove(*organizer.groups.filter(name=Role.ORGANIZER))
        assert_error(organizer_client.patch(url(event), {"title": "x"}), 403, "permission_denied")

    def test_capacity_below_confirmed_is_409(self, organizer_client, event):
        event.capacity = 3
        event.save()
        for _ in range(3):
            registration_create(event=event, user=UserFactory())
        assert_error(organizer_client.patch(url(event), {"capacity": 2}), 409, "capacity_below_registrations")
        assert organizer_client.patch(url(event), {"capacity": 3}).status_code == 200

    def test_raising_capacity_promotes_waitlisted_oldest_first(self, organizer_client, event):
        event.capacity = 1
        event.save()
        regs = [registration_create(event=event, user=UserFactory()) for _ in range(4)]
        body = organizer_client.patch(url(event), {"capacity": 3}).json()
        assert (body["registered_count"], body["waitlist_count"]) == (3, 1)
        assert Registration.objects.get(pk=regs[3].pk).status == "waitlisted"

    def test_partial_dates_are_checked_against_the_stored_ones(self, organizer_client, event):
        before_start = (event.start_at - timedelta(hours=1)).isoformat()
        assert_error(
            organizer_client.patch(url(event), {"end_at": before_start}), 400, "end_before_start", "end_at"
        )

    def test_status_is_not_editable_here(self, organizer_client, draft):
        organizer_client.patch(url(draft), {"status": "published"})
        draft.refresh_from_db()
        assert draft.status == "draft"

    def test_put_is_405(self, organizer_client, event):
        assert_error(organizer_client.put(url(event), VALID), 405, "method_not_allowed")


class TestDelete:
    def test_event_without_registrations_is_deleted(self, organizer_client, event):
        assert organizer_client.delete(url(event)).status_code == 204
        assert not Event.objects.filter(pk=event.pk).exists()

    def test_event_with_any_registration_is_409(self, organizer_client, event):
        RegistrationFactory(event=event, status="cancelled", cancelled_at=timezone.now())
        assert_error(organizer_client.delete(url(event)), 409, "event_has_registrations")
        assert Event.objects.filter(pk=event.pk).exists()

    def test_permissions(self, member_client, other_organizer_client, api_client, event, draft, admin_client):
        assert_error(member_client.delete(url(event)), 403, "permission_denied")
        assert_error(other_organizer_client.delete(url(draft)), 404, "not_found")
        assert_error(api_client.delete(url(event)), 401, "not_authenticated")
        assert admin_client.delete(url(draft)).status_code == 204


class TestPublishAndCancel:
    def test_publish_a_draft(self, organizer_client, draft):
        response = organizer_client.post(url(draft, "/publish"))
        assert response.status_code == 200 and response.json()["status"] == "published"
        assert_error(organizer_client.post(url(draft, "/publish")), 409, "invalid_status")

    def test_cancelled_cannot_be_published(self, organizer_client, event):
        organizer_client.post(url(event, "/cancel"))
        assert_error(organizer_client.post(url(event, "/publish")), 409, "invalid_status")

    def test_cancel_cascades_and_stays_readable(self, organizer_client, api_client, event):
        registrations = [registration_create(event=event, user=UserFactory()) for _ in range(3)]
        response = organizer_client.post(url(event, "/cancel"))
        assert response.status_code == 200
        assert (response.json()["status"], response.json()["registered_count"]) == ("cancelled", 0)
        for registration in registrations:
            registration.refresh_from_db()
            assert (registration.status, registration.cancel_reason) == ("cancelled", "event_cancelled")
        assert api_client.get(url(event)).json()["status"] == "cancelled"
        assert ids(api_client.get(EVENTS)) == []
        assert_error(organizer_client.post(url(event, "/cancel")), 409, "already_cancelled")

    @pytest.mark.parametrize("action", ["/publish", "/cancel"])
    def test_permissions(
        self, member_client, staff_client, api_client, other_organizer_client, draft, action
    ):
        assert_error(member_client.post(url(draft, action)), 404, "not_found")
        assert_error(other_organizer_client.post(url(draft, action)), 404, "not_found")
        assert_error(staff_client.post(url(draft, action)), 403, "permission_denied")
        assert_error(api_client.post(url(draft, action)), 401, "not_authenticated")
        draft.refresh_from_db()
        assert draft.status == "draft"


class TestCalendar:
    def test_one_vevent_in_utc_with_a_stable_uid(self, api_client, event, organizer_client):
        response = api_client.get(url(event, "/calendar.ics"), HTTP_ACCEPT="image/png")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/calendar")
        calendar = icalendar.Calendar.from_ical(response.content)
        (vevent,) = calendar.walk("VEVENT")
        assert vevent["SUMMARY"] == event.title
        assert vevent.decoded("DTSTART") == event.start_at.replace(microsecond=0)  # iCalendar has seconds
        assert vevent.decoded("DTSTART").utcoffset() == timedelta(0)
        assert b"DTSTART:" in response.content and b"Z\r\n" in response.content
        uid = str(vevent["UID"])
        moved = {
            "title": "Moved",
            "start_at": "2031-01-01T09:00:00+02:00",
            "end_at": "2031-01-01T11:00:00+02:00",
        }
        assert organizer_client.patch(url(event), moved).status_code == 200
        moved = icalendar.Calendar.from_ical(api_client.get(url(event, "/calendar.ics")).content)
        (vevent,) = moved.walk("VEVENT")
        assert str(vevent["UID"]) == uid
        assert vevent["DTSTART"].to_ical() == b"20310101T070000Z"

    def test_same_visibility_as_the_event(self, api_client, organizer_client, draft):
        assert_error(api_client.get(url(draft, "/calendar.ics")), 404, "not_found")
        assert organizer_client.get(url(draft, "/calendar.ics")).status_code == 200


class TestStaff:
    def test_assign_list_unassign(self, organizer_client, event, checkin_user):
        response = organizer_client.post(url(event, "/staff"), {"user_id": str(checkin_user.pk)})
        assert response.status_code == 201 and response.json()["id"] == str(checkin_user.pk)
        listing = organizer_client.get(url(event, "/staff")).json()
        assert listing["total"] == 1 and listing["items"][0]["id"] == str(checkin_user.pk)
        assert organizer_client.delete(url(event, f"/staff/{checkin_user.pk}")).status_code == 204
        assert organizer_client.get(url(event, "/staff")).json()["total"] == 0
        assert_error(organizer_client.delete(url(event, f"/staff/{checkin_user.pk}")), 404, "not_found")

    def test_only_checkin_staff_can_be_assigned(self, organizer_client, event, member):
        assert_error(
            organizer_client.post(url(event, "/staff"), {"user_id": str(member.pk)}), 400, "not_checkin_staff"
        )
        response = organizer_client.post(url(event, "/staff"), {"user_id": str(uuid.uuid4())})
        assert_error(response, 400, "does_not_exist", attr="user_id")
        # A UUID is a string: true or 1 is no user id (DRF would read UUID ...0001).
        for value in (True, 1, 2**100, 1.5, [str(member.pk)], "not-a-uuid"):
            response = organizer_client.post(url(event, "/staff"), {"user_id": value})
            assert_error(response, 400, "invalid", attr="user_id")
        assert_error(organizer_client.post(url(event, "/staff"), {}), 400, "required", attr="user_id")
        # A malformed id fails in the model's UUIDField (the schema lists it).
        for malformed in ("nope", {}, -2.5):
            response = organizer_client.post(url(event, "/staff"), {"user_id": malformed})
            assert_error(response, 400, "invalid", attr="user_id")

    def test_assigned_staff_can_see_but_not_edit_or_assign(self, staff_client, event, checkin_user):
        assert staff_client.get(url(event)).status_code == 200
        assert_error(staff_client.patch(url(event), {"title": "x"}), 403, "permission_denied")
        assert_error(staff_client.get(url(event, "/staff")), 403, "permission_denied")
        other = UserFactory(roles=[Role.CHECKIN])
        assert_error(
            staff_client.post(url(event, "/staff"), {"user_id": str(other.pk)}), 403, "permission_denied"
        )

    def test_unassigned_staff_lose_access_at_once(self, organizer_client, staff_client, draft, checkin_user):
        assert staff_client.get(url(draft)).status_code == 200
        organizer_client.delete(url(draft, f"/staff/{checkin_user.pk}"))
        assert_error(staff_client.get(url(draft)), 404, "not_found")

    def test_staff_who_lose_the_checkin_role_lose_the_draft_at_once(self, staff_client, draft, checkin_user):
        assert staff_client.get(url(draft)).status_code == 200
        user_revoke_role(user=checkin_user, role=Role.CHECKIN)
        # Still assigned, but no longer door staff: the draft does not exist for them.
        for suffix in ("", "/calendar.ics", "/attendees", "/checkin-stats"):
            assert_error(staff_client.get(url(draft, suffix)), 404, "not_found")
        assert draft.staff.filter(pk=checkin_user.pk).exists()

    def test_permissions(self, member_client, api_client, other_organizer_client, event, draft):
        assert_error(member_client.get(url(event, "/staff")), 403, "permission_denied")
        assert_error(other_organizer_client.get(url(draft, "/staff")), 404, "not_found")
        assert_error(api_client.get(url(event, "/staff")), 401, "not_authenticated")


def test_admin_acts_on_any_event(admin_client, event):
    assert admin_client.patch(url(event), {"title": "By admin"}).json()["title"] == "By admin"
    assert admin_client.post(url(event, "/cancel")).status_code == 200
    assert client_for(event.organizer).get(url(event)).json()["title"] == "By admin"


def test_the_list_without_filters_is_the_filtered_lists_default(api_client, organizer_client, organizer):
    """No filter parameter skips the filter form (events.views filter_queryset):
    the same rows as when include_past is given its default explicitly."""
    from datetime import timedelta

    from django.utils import timezone

    past = EventFactory(organizer=organizer, status="published")
    Event.objects.filter(pk=past.pk).update(start_at=timezone.now() - timedelta(days=1))
    EventFactory(organizer=organizer, status="published")
    for client, url, default in (
        (api_client, "/api/v1/events", "false"),
        (organizer_client, "/api/v1/events/managed", "true"),
    ):
        answer = client.get(url)
        assert answer.status_code == 200, answer.json()
        bare = [e["id"] for e in answer.json()["items"]]
        explicit = [e["id"] for e in client.get(url, {"include_past": default}).json()["items"]]
        assert bare == explicit and (str(past.pk) in bare) == (default == "true")
