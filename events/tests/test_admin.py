"""The organizer's back office: scoping, the service-backed form, actions."""

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from checkin.models import Scan
from checkin.services import checkin_scan
from eventmaster.roles import Role, role_group
from eventmaster.tests.utils import run_tasks
from events.models import Event
from events.tests.factories import EventFactory
from registrations.services import registration_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def organizer_admin(client, organizer):
    client.force_login(organizer)
    return client


@pytest.fixture
def mine(organizer):
    return EventFactory(organizer=organizer, title="My Meetup", capacity=1)


@pytest.fixture
def theirs():
    return EventFactory(title="Their Secret Summit")


def url(name: str, *args) -> str:
    return reverse(f"admin:{name}", args=args)


class TestScoping:
    def test_changelists_show_only_the_organizers_rows(self, organizer_admin, mine, theirs):
        mine_reg = registration_create(event=mine, user=UserFactory(email="mine@example.org"))
        registration_create(event=theirs, user=UserFactory(email="theirs@example.org"))
        checkin_scan(ticket_code=mine_reg.ticket_code, event=mine, by=mine.organizer)
        checkin_scan(ticket_code="x", event=theirs, by=theirs.organizer)
        events = organizer_admin.get(url("events_event_changelist")).content.decode()
        assert "My Meetup" in events and "Their Secret Summit" not in events
        registrations = organizer_admin.get(url("registrations_registration_changelist")).content.decode()
        assert "mine@example.org" in registrations and "theirs@example.org" not in registrations
        assert "Their Secret Summit" not in registrations  # not even in the event filter
        scans = organizer_admin.get(url("checkin_scan_changelist")).content.decode()
        assert "Their Secret Summit" not in scans and "My Meetup" in scans

    def test_foreign_objects_by_url_are_404(self, organizer_admin, theirs):
        registration = registration_create(event=theirs, user=UserFactory())
        scan = Scan.objects.create(event=theirs, ticket_code="x", result="invalid")
        for path in (
            url("events_event_change", theirs.pk),
            url("events_event_delete", theirs.pk),
            url("events_event_history", theirs.pk),
            url("registrations_registration_change", registration.pk),
            url("checkin_scan_change", scan.pk),
        ):
            response = organizer_admin.get(path)
            assert response.status_code == 404, path
            assert b"Their Secret Summit" not in response.content

    def test_organizers_cannot_see_users_or_groups(self, organizer_admin):
        assert organizer_admin.get(url("accounts_user_changelist")).status_code == 403
        assert organizer_admin.get(url("auth_group_changelist")).status_code == 403

    def test_an_admin_sees_everything(self, client, admin_user, mine, theirs):
        client.force_login(admin_user)
        events = client.get(url("events_event_changelist")).content.decode()
        assert "My Meetup" in events and "Their Secret Summit" in events
        assert client.get(url("events_event_change", theirs.pk)).status_code == 200

    def test_members_and_door_staff_have_no_admin(self, client, member, checkin_user):
        for user in (member, checkin_user):
            client.force_login(user)
            assert client.get(url("events_event_changelist")).status_code == 302  # to the admin login

    def test_event_changelist_counts_without_n_plus_1(
        self, organizer_admin, organizer, django_assert_max_num_queries
    ):
        def count_queries():
            with django_assert_max_num_queries(50) as captured:
                organizer_admin.get(url("events_event_changelist"))
            return len(captured)

        EventFactory(organizer=organizer)
        few = count_queries()
        for _ in range(20):
            registration_create(event=EventFactory(organizer=organizer, capacity=5), user=UserFactory())
        assert count_queries() == few

    def test_event_page_links_to_its_registrations_instead_of_listing_them(
        self, organizer_admin, organizer, django_assert_max_num_queries
    ):
        event = EventFactory(organizer=organizer, capacity=3)
        other = EventFactory(organizer=organizer)
        users = UserFactory.create_batch(5)
        for user in users:
            registration_create(event=event, user=user)
        registration_create(event=other, user=UserFactory(email="elsewhere@example.org"))

        def change_page():
            with django_assert_max_num_queries(60) as captured:
                page = organizer_admin.get(url("events_event_change", event.pk)).content.decode()
            return page, len(captured)

        page, queries = change_page()
        assert "3 confirmed, 2 waitlisted" in page
        assert users[0].email not in page  # no inline of every registration
        for _ in range(10):
            registration_create(event=event, user=UserFactory())
        assert change_page()[1] == queries  # constant in the number of registrations
        link = f"{url('registrations_registration_changelist')}?event__id__exact={event.pk}"
        assert link in page.replace("&amp;", "&")
        listed = organizer_admin.get(link).content.decode()
        assert users[0].email in listed and "elsewhere@example.org" not in listed


class TestForm:
    def form(self, **overrides) -> dict:
        start = timezone.now() + timedelta(days=3)
        data = {
            "title": "Admin <b>made</b>",
            "description": "<p>Hi</p><script>alert(1)</script><a href='javascript:x()'>x</a>",
            "location": "Hall",
            "start_at_0": start.strftime("%Y-%m-%d"),
            "start_at_1": start.strftime("%H:%M:%S"),
            "end_at_0": (start + timedelta(hours=2)).strftime("%Y-%m-%d"),
            "end_at_1": (start + timedelta(hours=2)).strftime("%H:%M:%S"),
            "capacity": "5",
            "waitlist_enabled": "on",
            "registrations-TOTAL_FORMS": "0",
            "registrations-INITIAL_FORMS": "0",
        }
        return {**data, **overrides}

    def test_add_sanitizes_and_makes_the_caller_the_organizer(self, organizer_admin, organizer):
        response = organizer_admin.post(url("events_event_add"), self.form())
        assert response.status_code == 302, response.content.decode()[:2000]
        event = Event.objects.get()
        assert event.organizer == organizer and event.status == "draft"
        assert event.title == "Admin made"
        assert event.description == "<p>Hi</p><a>x</a>"

    def test_service_validation_shows_on_the_form(self, organizer_admin):
        bad = self.form(end_at_0=self.form()["start_at_0"], end_at_1=self.form()["start_at_1"])
        response = organizer_admin.post(url("events_event_add"), bad)
        assert (
            response.status_code == 200 and "The event must end after it starts." in response.content.decode()
        )
        response = organizer_admin.post(url("events_event_add"), self.form(title="<script>x</script>"))
        assert "The title must contain text." in response.content.decode()
        assert not Event.objects.exists()

    def test_capacity_below_confirmed_is_a_form_error(self, organizer_admin, mine):
        registration_create(event=mine, user=UserFactory())
        Event.objects.filter(pk=mine.pk).update(capacity=2)
        registration_create(event=mine, user=UserFactory())
        form = self.form(title="My Meetup", capacity="1", **{"registrations-INITIAL_FORMS": "0"})
        response = organizer_admin.post(url("events_event_change", mine.pk), form)
        assert response.status_code == 200
        assert (
            "Capacity cannot be lower than the number of confirmed registrations."
            in response.content.decode()
        )
        mine.refresh_from_db()
        assert mine.capacity == 2

    def test_an_event_with_registrations_cannot_be_deleted(self, organizer_admin, mine, organizer):
        registration_create(event=mine, user=UserFactory())
        assert organizer_admin.post(url("events_event_delete", mine.pk), {"post": "yes"}).status_code == 403
        empty = EventFactory(organizer=organizer)
        assert organizer_admin.post(url("events_event_delete", empty.pk), {"post": "yes"}).status_code == 302
        assert Event.objects.filter(pk=mine.pk).exists() and not Event.objects.filter(pk=empty.pk).exists()


class TestDoorStaff:
    form = TestForm.form

    def test_chosen_among_users_with_the_checkin_role(self, organizer_admin, checkin_user, member):
        page = organizer_admin.get(url("events_event_add")).content.decode()
        assert f'value="{checkin_user.pk}"' in page and f'value="{member.pk}"' not in page

    def test_assigned_on_add_and_changed_on_edit(self, organizer_admin, organizer, checkin_user):
        other = UserFactory(roles=[Role.MEMBER, Role.CHECKIN])
        response = organizer_admin.post(url("events_event_add"), self.form(staff=[str(checkin_user.pk)]))
        assert response.status_code == 302, response.content.decode()[:2000]
        event = Event.objects.get()
        assert set(event.staff.all()) == {checkin_user}
        edit = url("events_event_change", event.pk)
        assert f'value="{checkin_user.pk}" selected' in organizer_admin.get(edit).content.decode()

        response = organizer_admin.post(edit, self.form(staff=[str(other.pk)]))
        assert response.status_code == 302, response.content.decode()[:2000]
        assert set(event.staff.all()) == {other}
        assert organizer_admin.post(edit, self.form()).status_code == 302
        assert not event.staff.exists()

    def test_a_user_without_the_role_is_refused(self, organizer_admin, member):
        response = organizer_admin.post(url("events_event_add"), self.form(staff=[str(member.pk)]))
        assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
        assert not Event.objects.exists()

    def test_someone_who_lost_the_role_is_left_as_is(self, organizer_admin, mine, checkin_user):
        mine.staff.add(checkin_user)
        checkin_user.groups.remove(role_group(Role.CHECKIN))
        assert organizer_admin.post(url("events_event_change", mine.pk), self.form()).status_code == 302
        assert list(mine.staff.all()) == [checkin_user]


class TestActions:
    def act(self, client, model: str, action: str, objects, **extra):
        return client.post(
            url(f"{model}_changelist"),
            {"action": action, ACTION_CHECKBOX_NAME: [str(o.pk) for o in objects], **extra},
        )

    def test_publish(self, organizer_admin, organizer):
        draft = EventFactory(organizer=organizer, status=Event.Status.DRAFT)
        self.act(organizer_admin, "events_event", "publish_events", [draft])
        draft.refresh_from_db()
        assert draft.status == "published"

    def test_cancel_asks_first_then_cascades_and_mails(
        self, organizer_admin, mine, django_capture_on_commit_callbacks
    ):
        registration = registration_create(event=mine, user=UserFactory())
        page = self.act(organizer_admin, "events_event", "cancel_events", [mine])
        assert page.status_code == 200 and "Yes, cancel them" in page.content.decode()
        mine.refresh_from_db()
        assert mine.status == "published"
        with django_capture_on_commit_callbacks(execute=True):
            self.act(organizer_admin, "events_event", "cancel_events", [mine], confirmed="yes")
        mine.refresh_from_db()
        registration.refresh_from_db()
        assert mine.status == "cancelled" and registration.cancel_reason == "event_cancelled"
        run_tasks()  # the workers mail them
        assert [m.to[0] for m in mail.outbox] == [registration.user.email]

    def test_export(self, organizer_admin, mine):
        registration_create(event=mine, user=UserFactory(email="csv@example.org"))
        response = self.act(organizer_admin, "events_event", "export_attendees", [mine])
        assert response["Content-Type"].startswith("text/csv")
        assert b"csv@example.org" in b"".join(response.streaming_content)

    def test_registration_actions_go_through_the_services(self, organizer_admin, mine, organizer):
        first = registration_create(event=mine, user=UserFactory())
        waiting = registration_create(event=mine, user=UserFactory())
        self.act(organizer_admin, "registrations_registration", "check_in", [first])
        assert Scan.objects.get().result == "ok" and Scan.objects.get().by == organizer
        self.act(organizer_admin, "registrations_registration", "cancel_registrations", [first])
        first.refresh_from_db()
        assert first.status == "confirmed"  # checked in: the service refuses
        self.act(organizer_admin, "registrations_registration", "undo_check_in", [first])
        self.act(organizer_admin, "registrations_registration", "cancel_registrations", [first])
        first.refresh_from_db()
        waiting.refresh_from_db()
        assert (first.status, waiting.status) == ("cancelled", "confirmed")  # the waitlist moved up
        assert list(Scan.objects.order_by("id").values_list("result", flat=True)) == ["ok", "undone"]

    def test_an_organizer_cannot_act_on_foreign_rows(self, organizer_admin, theirs):
        registration = registration_create(event=theirs, user=UserFactory())
        self.act(organizer_admin, "registrations_registration", "cancel_registrations", [registration])
        self.act(organizer_admin, "events_event", "cancel_events", [theirs], confirmed="yes")
        registration.refresh_from_db()
        theirs.refresh_from_db()
        assert registration.status == "confirmed" and theirs.status == "published"


def test_organizer_role_lost_means_admin_lost(client, organizer):
    organizer.groups.remove(*organizer.groups.filter(name=Role.ORGANIZER))
    organizer.refresh_from_db()
    client.force_login(organizer)
    assert not organizer.is_staff
    assert client.get(url("events_event_changelist")).status_code == 302


class TestDashboard:
    def test_totals_and_a_bar_per_quarter_hour(self, organizer_admin, organizer, monkeypatch):
        from datetime import UTC, datetime

        from checkin import services as checkin_services

        event = EventFactory(organizer=organizer, capacity=10)
        regs = [registration_create(event=event, user=UserFactory()) for _ in range(4)]
        for reg, minute in zip(regs[:3], (2, 14, 47), strict=True):  # 18:00-18:15 x2, 18:45-19:00 x1
            when = datetime(2030, 5, 1, 18, minute, tzinfo=UTC)
            with monkeypatch.context() as patch:  # django.utils.timezone itself: keep it to the scan
                patch.setattr(checkin_services.timezone, "now", lambda when=when: when)
                checkin_scan(ticket_code=reg.ticket_code, event=event, by=organizer)
        change_page = organizer_admin.get(url("events_event_change", event.pk)).content.decode()
        dashboard_url = url("checkin_event_dashboard", event.pk)
        assert dashboard_url in change_page
        html = organizer_admin.get(dashboard_url).content.decode()
        assert "<b>3</b>checked in" in html and "<b>1</b>still to come" in html
        assert html.count("<rect ") == 4  # 18:00, 18:15 (empty), 18:30 (empty), 18:45
        assert "18:00: 2" in html and "18:45: 1" in html and "18:15: 0" in html
        assert "http://" not in html.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
            "http://www.w3.org", ""
        )

    def test_empty_and_foreign(self, organizer_admin, mine, theirs):
        assert (
            "No arrivals yet."
            in organizer_admin.get(url("checkin_event_dashboard", mine.pk)).content.decode()
        )
        assert organizer_admin.get(url("checkin_event_dashboard", theirs.pk)).status_code == 404
