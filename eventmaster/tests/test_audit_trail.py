"""Which action writes which domain event and audit entry, and who it names,
from the API, the admin and the commands (eventmaster.audit). Each listed
administrative action writes exactly one audit entry; an attendee's own
registration and an ordinary door scan write a domain event only."""

import getpass
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from eventmaster.models import AuditEntry, DomainEvent
from eventmaster.roles import Role, role_group
from eventmaster.tests.utils import assert_error
from events.models import Event
from events.tests.factories import EventFactory
from registrations.models import Registration
from registrations.services import registration_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def mark():
    """What was recorded after this point: (domain event types, audit entries)."""
    seq = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    last = DomainEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def since():
        return (
            list(DomainEvent.objects.filter(id__gt=last).order_by("id").values_list("type", flat=True)),
            list(AuditEntry.objects.filter(seq__gt=seq).order_by("seq")),
        )

    return since


def only_entry(entries, action):
    assert [e.action for e in entries] == [action], [(e.action, e.object_id) for e in entries]
    return entries[0]


def assert_actor(entry, user, role, via):
    assert (entry.actor_id, entry.actor, entry.actor_role, entry.via) == (user.pk, user.email, role, via)


class TestThroughTheAPI:
    def test_event_lifecycle(self, organizer, organizer_client, mark):
        start = timezone.now() + timedelta(days=7)
        body = {"title": "Meetup", "start_at": start.isoformat(), "end_at": (start + timedelta(hours=2)).isoformat(),
                "capacity": 10, "status": "published"}  # fmt: skip
        created = organizer_client.post("/api/v1/events", body, format="json")
        assert created.status_code == 201
        event_id = created.json()["id"]
        types, entries = mark()
        entry = only_entry(entries, "event.published")
        assert_actor(entry, organizer, "organizer", "api")
        assert (entry.object_type, entry.object_id, str(entry.event_id)) == ("event", event_id, event_id)
        assert entry.request_id == created["X-Request-ID"]
        assert entry.changes == {"status": [None, "published"]}
        assert types == ["event.published"]

        answer = organizer_client.patch(f"/api/v1/events/{event_id}", {"title": "Meetup II", "capacity": 10})
        assert answer.status_code == 200
        entry = only_entry(mark()[1][1:], "event.updated")
        assert entry.changes == {"title": ["Meetup", "Meetup II"]}  # capacity did not change
        organizer_client.patch(f"/api/v1/events/{event_id}", {"title": "Meetup II"})  # no change: no entry
        assert len(mark()[1]) == 2

        assert organizer_client.post(f"/api/v1/events/{event_id}/cancel").status_code == 200
        entry = only_entry(mark()[1][2:], "event.cancelled")
        assert entry.changes == {"status": ["published", "cancelled"]}

    def test_publish_and_delete_a_draft(self, organizer, organizer_client, mark):
        draft = EventFactory(organizer=organizer, status=Event.Status.DRAFT, title="Draft")
        assert organizer_client.post(f"/api/v1/events/{draft.pk}/publish").status_code == 200
        other = EventFactory(organizer=organizer, status=Event.Status.DRAFT, title="Gone soon")
        assert organizer_client.delete(f"/api/v1/events/{other.pk}").status_code == 204
        _, entries = mark()
        assert [e.action for e in entries] == ["event.published", "event.deleted"]
        assert entries[0].changes == {"status": ["draft", "published"]}
        deleted = DomainEvent.objects.get(type="event.deleted")
        assert deleted.data["title"] == "Gone soon" and deleted.object_id == str(other.pk)

    def test_door_staff_added_and_removed(self, organizer, organizer_client, checkin_user, event, mark):
        url = f"/api/v1/events/{event.pk}/staff"
        assert organizer_client.post(url, {"user_id": str(checkin_user.pk)}).status_code == 201
        assert (
            organizer_client.post(url, {"user_id": str(checkin_user.pk)}).status_code == 201
        )  # already: no entry
        assert organizer_client.delete(f"{url}/{checkin_user.pk}").status_code == 204
        _, entries = mark()
        assert [(e.action, e.object_id) for e in entries] == [
            ("staff.added", str(checkin_user.pk)),
            ("staff.removed", str(checkin_user.pk)),
        ]
        assert_actor(entries[0], organizer, "organizer", "api")

    def test_an_attendees_own_registration_is_not_audited(self, member, member_client, event, mark):
        event.capacity = 1
        event.save()
        answer = member_client.post(f"/api/v1/events/{event.pk}/registrations")
        assert answer.status_code == 201
        waiting = registration_create(event=event, user=UserFactory())  # waitlisted
        _, entries = mark()
        assert [e.action for e in entries] == ["registration.created"]  # the direct service call: system
        assert entries[0].via == "system" and entries[0].object_id == str(waiting.pk)

        # Cancelling their own registration promotes the next: not
        # administrative either (a member's own action).
        assert member_client.post(f"/api/v1/registrations/{answer.json()['id']}/cancel").status_code == 200
        types, entries = mark()
        assert types == ["registration.created", "registration.created", "registration.cancelled",
                         "registration.promoted"]  # fmt: skip
        assert len(entries) == 1

    def test_an_organizer_cancelling_and_a_capacity_raise_are_audited(
        self, organizer, organizer_client, event, mark
    ):
        event.capacity = 1
        event.save()
        attendees = [registration_create(event=event, user=UserFactory()) for _ in range(3)]
        before = len(mark()[1])
        answer = organizer_client.post(f"/api/v1/registrations/{attendees[0].pk}/cancel")
        assert answer.status_code == 200
        entries = mark()[1][before:]
        assert [e.action for e in entries] == ["registration.cancelled", "registration.promoted"]
        assert entries[0].changes == {
            "status": ["confirmed", "cancelled"],
            "cancel_reason": [None, "organizer_cancelled"],
        }
        assert entries[1].object_id == str(attendees[1].pk)
        assert organizer_client.patch(f"/api/v1/events/{event.pk}", {"capacity": 2}).status_code == 200
        entries = mark()[1][before + 2 :]
        assert [(e.action, e.object_id) for e in entries] == [
            ("event.updated", str(event.pk)),
            ("registration.promoted", str(attendees[2].pk)),
        ]
        assert all(e.actor_id == organizer.pk and e.via == "api" for e in entries)

    def test_a_scan_is_not_audited_but_an_undo_is(
        self, registration, event, staff_client, checkin_user, mark
    ):
        body = {"ticket_code": registration.ticket_code, "event_id": str(event.pk)}
        assert staff_client.post("/api/v1/checkin", body).json()["result"] == "ok"
        assert staff_client.post("/api/v1/checkin/undo", body).json()["result"] == "undone"
        types, entries = mark()
        assert types[-2:] == ["checkin.created", "checkin.undone"]
        entry = only_entry(entries, "checkin.undone")
        assert_actor(entry, checkin_user, "checkin", "api")
        assert entry.object_id == str(registration.pk) and entry.changes["checked_in_at"][1] is None

    def test_roles_and_deactivation_by_an_admin(self, admin_user, admin_client, member, mark):
        answer = admin_client.patch(
            f"/api/v1/users/{member.pk}",
            {"roles": ["member", "organizer"], "is_active": False},
            format="json",
        )
        assert answer.status_code == 200
        _, entries = mark()
        assert [(e.action, e.changes) for e in entries] == [
            ("role.granted", {"role": [None, "organizer"]}),
            ("user.deactivated", {"is_active": [True, False]}),
        ]
        assert all(e.object_id == str(member.pk) and e.event_id is None for e in entries)
        assert_actor(entries[0], admin_user, "admin", "api")

    def test_a_refused_change_records_nothing(self, organizer_client, event, mark):
        registration_create(event=event, user=UserFactory())
        before = mark()
        assert_error(organizer_client.patch(f"/api/v1/events/{event.pk}", {"capacity": 0}), 400, "min_value")
        assert organizer_client.post(f"/api/v1/events/{event.pk}/cancel").status_code == 200
        assert_error(organizer_client.post(f"/api/v1/events/{event.pk}/cancel"), 409, "already_cancelled")
        types, entries = mark()
        assert types[len(before[0]) :] == ["event.cancelled"]
        assert [e.action for e in entries[len(before[1]) :]] == ["event.cancelled"]


class TestThroughTheAdmin:
    def test_actions_and_the_user_form(self, client, admin_user, organizer, member, mark):
        draft = EventFactory(organizer=organizer, status=Event.Status.DRAFT)
        client.force_login(organizer)
        answer = client.post(
            reverse("admin:events_event_changelist"),
            {"action": "publish_events", ACTION_CHECKBOX_NAME: [draft.pk]},
        )
        assert answer.status_code == 302
        entry = only_entry(mark()[1], "event.published")
        assert_actor(entry, organizer, "organizer", "admin")
        assert entry.request_id

        client.force_login(admin_user)
        page = reverse("admin:accounts_user_change", args=[member.pk])
        form = {"email": member.email, "full_name": member.full_name, "is_active": "",
                "groups": [role_group(Role.MEMBER).pk, role_group(Role.CHECKIN).pk],
                "last_login_0": "", "last_login_1": "", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"}  # fmt: skip
        answer = client.post(page, form)
        assert answer.status_code == 302, answer.content[:2000]
        entries = mark()[1][1:]
        assert sorted((e.action, e.via) for e in entries) == [
            ("role.granted", "admin"),
            ("user.deactivated", "admin"),
        ]
        assert all(e.actor_id == admin_user.pk for e in entries)

    def test_the_event_form_staff_cancels_check_ins_and_a_delete(
        self, client, organizer, checkin_user, member, mark
    ):
        """Every other administrative path of the admin, one entry each,
        naming the organizer, via admin, with the changed fields."""
        event = EventFactory(organizer=organizer, capacity=1, title="Before")
        first = registration_create(event=event, user=member)
        waiting = registration_create(event=event, user=UserFactory())
        client.force_login(organizer)
        before = [len(recorded) for recorded in mark()]

        def since_setup():
            types, entries = mark()
            return types[before[0] :], entries[before[1] :]

        def act(model: str, action: str, objects, **extra):
            answer = client.post(
                reverse(f"admin:{model}_changelist"),
                {"action": action, ACTION_CHECKBOX_NAME: [str(o.pk) for o in objects], **extra},
            )
            assert answer.status_code in (200, 302), answer.content[:2000]

        start = event.start_at
        form = {
            "title": "After", "description": event.description, "location": event.location,
            "start_at_0": start.strftime("%Y-%m-%d"), "start_at_1": start.strftime("%H:%M:%S"),
            "end_at_0": event.end_at.strftime("%Y-%m-%d"), "end_at_1": event.end_at.strftime("%H:%M:%S"),
            "capacity": "1", "staff": [str(checkin_user.pk)],
            "registrations-TOTAL_FORMS": "0", "registrations-INITIAL_FORMS": "0",
        }  # fmt: skip
        edit = reverse("admin:events_event_change", args=[event.pk])
        answer = client.post(edit, form)
        assert answer.status_code == 302, answer.content[:2000]
        _, entries = since_setup()
        assert sorted(e.action for e in entries) == ["event.updated", "staff.added"]
        updated = next(e for e in entries if e.action == "event.updated")
        assert updated.changes["title"] == ["Before", "After"] and "capacity" not in updated.changes
        assert client.post(edit, {**form, "staff": []}).status_code == 302

        act("registrations_registration", "check_in", [first])
        act("registrations_registration", "undo_check_in", [first])
        act("registrations_registration", "cancel_registrations", [first])  # promotes the waiting one
        act("events_event", "cancel_events", [event], confirmed="yes")
        draft = EventFactory(organizer=organizer, status=Event.Status.DRAFT)
        delete = reverse("admin:events_event_delete", args=[draft.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 302

        types, entries = since_setup()
        assert [e.action for e in entries] == [
            "event.updated", "staff.added", "staff.removed", "checkin.created", "checkin.undone",
            "registration.cancelled", "registration.promoted", "event.cancelled", "event.deleted",
        ]  # fmt: skip
        # The event's cancel is one entry for all its registrations.
        assert [e.object_id for e in entries if e.action.startswith("registration.")] == [
            str(first.pk),
            str(waiting.pk),
        ]
        for entry in entries:
            assert_actor(entry, organizer, "organizer", "admin")
            assert entry.request_id
        assert "event.deleted" in types and "registration.created" not in types
        assert audit_verified()


def audit_verified() -> bool:
    from eventmaster import audit

    return audit.verify().ok


class TestThroughTheCommands:
    def test_roles_and_a_terminal_check_in(self, member, registration, event, mark):
        call_command("grant_role", member.email, "checkin", stdout=None)
        call_command("revoke_role", member.email, "checkin", stdout=None)
        call_command("checkin", str(event.pk), registration.ticket_code, stdout=None)
        _, entries = mark()
        assert [e.action for e in entries] == ["role.granted", "role.revoked", "checkin.created"]
        assert all(e.via == "command" and e.actor_id is None for e in entries)
        assert entries[0].actor == f"{getpass.getuser()} (manage.py grant_role)"
        assert entries[2].actor == f"{getpass.getuser()} (manage.py checkin)"

    def test_the_demo_seed_is_audited_as_its_command(self, mark):
        call_command("seed_demo", stdout=None)
        types, entries = mark()
        assert entries and all(e.via == "command" and e.actor_id is None for e in entries)
        assert {e.actor for e in entries} == {f"{getpass.getuser()} (manage.py seed_demo)"}
        # Everything a command does is administrative: every kind of change
        # it made has its entries.
        assert {e.action for e in entries} == set(types)


def test_every_type_is_recorded_by_its_service(organizer, admin_user, member, checkin_user):
    """Each domain event type of eventmaster.audit is written by the service
    that makes the change (one pass through all of them)."""
    from accounts.services import user_grant_role, user_revoke_role, user_update
    from checkin.services import checkin_scan, checkin_undo
    from eventmaster.audit import TYPES
    from events import services as events
    from registrations.services import registration_cancel

    covered = {
        "event.published", "event.updated", "event.cancelled", "event.deleted", "registration.created",
        "registration.cancelled", "registration.promoted", "checkin.created", "checkin.undone", "staff.added",
        "staff.removed", "role.granted", "role.revoked", "user.deactivated",
    }  # fmt: skip
    assert covered == TYPES
    start = timezone.now() + timedelta(days=3)
    event = events.event_create(organizer=organizer, status="published", title="All of it", start_at=start,
                                end_at=start + timedelta(hours=1), capacity=1)  # fmt: skip
    events.event_update(event=event, title="All of it, again")
    events.event_staff_add(event=event, user=checkin_user)
    events.event_staff_remove(event=event, user=checkin_user)
    first = registration_create(event=event, user=UserFactory())
    registration_create(event=event, user=UserFactory())  # waitlisted
    registration_cancel(registration=first, by=organizer)  # promotes the second
    promoted = Registration.objects.get(event=event, status="confirmed")
    checkin_scan(ticket_code=promoted.ticket_code, event=event, by=organizer)
    checkin_undo(ticket_code=promoted.ticket_code, event=event, by=organizer)
    events.event_cancel(event=event)
    events.event_delete(event=EventFactory(organizer=organizer, status=Event.Status.DRAFT))
    user_grant_role(user=member, role=Role.CHECKIN)
    user_revoke_role(user=member, role=Role.CHECKIN)
    user_update(user=member, by=admin_user, is_active=False)
    assert set(DomainEvent.objects.values_list("type", flat=True)) == TYPES
