"""The event's counter columns (confirmed_count, waitlisted_count): every
write that moves a registration moves them, in its transaction; the
migration's backfill, and recount_events finding and fixing drift."""

import importlib
import subprocess
import sys

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import UserFactory
from checkin.services import checkin_scan
from eventmaster.tests.server import server_env
from events import services as event_services
from events.models import Event
from events.tests.factories import EventFactory
from registrations.errors import AlreadyRegisteredError, EventFullError
from registrations.models import Registration
from registrations.selectors import event_counts_drift, registration_door_counts
from registrations.services import (
    event_counts_fix,
    registration_cancel,
    registration_create,
    registration_create_once,
    waitlist_promote,
)
from registrations.tests.factories import RegistrationFactory

pytestmark = pytest.mark.django_db

backfill_counts = importlib.import_module("events.migrations.0002_registration_counts").backfill_counts


def counts(event) -> tuple[int, int]:
    """(confirmed_count, waitlisted_count) as stored, and checked against a
    recount of the registrations."""
    stored = Event.objects.values_list("confirmed_count", "waitlisted_count").get(pk=event.pk)
    actual = tuple(
        Registration.objects.filter(event=event, status=s).count()
        for s in (Registration.Status.CONFIRMED, Registration.Status.WAITLISTED)
    )
    assert stored == actual, f"stored {stored}, actual {actual}"
    return stored


def fill(event, n: int) -> list[Registration]:
    return [registration_create(event=event, user=UserFactory()) for _ in range(n)]


def drift_out_of(event, confirmed: int = 7, waitlisted: int = 5) -> None:
    Event.objects.filter(pk=event.pk).update(confirmed_count=confirmed, waitlisted_count=waitlisted)


class TestServices:
    def test_create_confirmed_then_waitlisted(self):
        event = EventFactory(capacity=2)
        fill(event, 1)
        assert counts(event) == (1, 0)
        fill(event, 3)
        assert counts(event) == (2, 2)

    def test_a_refused_registration_moves_nothing(self):
        event = EventFactory(capacity=1, waitlist_enabled=False)
        (first,) = fill(event, 1)
        with pytest.raises(EventFullError):
            fill(event, 1)
        with pytest.raises(AlreadyRegisteredError):
            registration_create(event=event, user=first.user)
        assert counts(event) == (1, 0)

    def test_the_capacity_decision_reads_the_locked_column(self):
        """The counter decides, not a COUNT: a (deliberately) wrong counter
        shows it, and a registration is one UPDATE of the event row."""
        event = EventFactory(capacity=3)
        drift_out_of(event, confirmed=3, waitlisted=0)
        with CaptureQueriesContext(connection) as captured:
            registration = registration_create(event=event, user=UserFactory())
        assert registration.status == "waitlisted" and registration.waitlist_position_raw == 1
        sql = [q["sql"] for q in captured.captured_queries]
        assert not [s for s in sql if "COUNT(" in s.upper()], sql
        # On PostgreSQL inside the sign-up's one write statement (db.together).
        assert sum(s.count('UPDATE "events_event"') for s in sql) == 1, sql
        event_counts_fix(event_id=event.pk)

    def test_cancel_confirmed_promotes_the_oldest_waitlisted(self):
        event = EventFactory(capacity=2)
        confirmed = fill(event, 2)
        fill(event, 2)
        assert counts(event) == (2, 2)
        with CaptureQueriesContext(connection) as captured:
            registration_cancel(registration=confirmed[0], by=confirmed[0].user)
        assert counts(event) == (2, 1)
        updates = [
            q["sql"] for q in captured.captured_queries if q["sql"].startswith('UPDATE "events_event"')
        ]
        assert len(updates) == 1  # the cancel and the promotion in one

    def test_cancel_confirmed_with_nobody_waiting(self):
        event = EventFactory(capacity=2)
        (registration,) = fill(event, 1)
        registration_cancel(registration=registration, by=registration.user)
        assert counts(event) == (0, 0)

    def test_cancel_waitlisted(self):
        event = EventFactory(capacity=1)
        _, waiting = fill(event, 2)
        registration_cancel(registration=waiting, by=event.organizer)
        assert counts(event) == (1, 0)

    def test_capacity_raise_promotes_n(self):
        event = EventFactory(capacity=2)
        fill(event, 7)
        assert counts(event) == (2, 5)
        event = event_services.event_update(event=event, capacity=5)
        assert counts(event) == (5, 2)
        assert (event.confirmed_count, event.waitlisted_count) == (5, 2)  # the returned row too

    def test_waitlist_promote_with_no_free_seat_moves_nothing(self):
        event = EventFactory(capacity=1)
        fill(event, 2)
        event = Event.objects.get(pk=event.pk)
        assert waitlist_promote(event=event) == 0
        assert counts(event) == (1, 1)

    def test_capacity_below_the_confirmed_count_is_refused(self):
        event = EventFactory(capacity=3)
        fill(event, 3)
        with pytest.raises(event_services.CapacityBelowRegistrationsError):
            event_services.event_update(event=event, capacity=2)
        assert counts(event) == (3, 0)

    def test_an_event_edit_never_writes_stale_counters(self):
        event = EventFactory(capacity=5)
        stale = Event.objects.get(pk=event.pk)
        fill(event, 2)
        event_services.event_update(event=stale, title="Renamed")
        assert counts(event) == (2, 0)

    def test_event_cancel_zeroes_both(self):
        event = EventFactory(capacity=1)
        fill(event, 3)
        cancelled = event_services.event_cancel(event=event)
        assert counts(event) == (0, 0) and (cancelled.confirmed_count, cancelled.waitlisted_count) == (0, 0)

    def test_registration_with_an_idempotency_key_counts_once(self):
        event, user = EventFactory(capacity=1), UserFactory()
        for _ in range(2):
            registration_create_once(
                event_id=event.pk, user=user, key="k", scope="s", render=lambda r: {"id": str(r.pk)}
            )
        assert counts(event) == (1, 0)

    def test_a_check_in_moves_no_counter(self):
        event = EventFactory(capacity=1)
        (registration,) = fill(event, 1)
        checkin_scan(ticket_code=registration.ticket_code, event=event, by=event.organizer)
        assert counts(event) == (1, 0)

    def test_the_api_shows_the_columns(self, api_client):
        event = EventFactory(capacity=2)
        fill(event, 3)
        body = api_client.get(f"/api/v1/events/{event.pk}").json()
        assert (
            body["registered_count"],
            body["waitlist_count"],
            body["available_slots"],
            body["is_full"],
        ) == (
            2,
            1,
            0,
            True,
        )


class TestAdminActions:
    @pytest.fixture
    def admin(self, client, organizer):
        client.force_login(organizer)

        def act(model: str, action: str, objects, **extra):
            return client.post(
                reverse(f"admin:{model}_changelist"),
                {"action": action, ACTION_CHECKBOX_NAME: [str(o.pk) for o in objects], **extra},
            )

        return act

    def test_cancel_registrations(self, admin, organizer):
        event = EventFactory(organizer=organizer, capacity=1)
        first, _, third = fill(event, 3)
        admin("registrations_registration", "cancel_registrations", [first, third])
        assert counts(event) == (1, 0)

    def test_cancel_events(self, admin, organizer):
        event = EventFactory(organizer=organizer, capacity=1)
        fill(event, 2)
        admin("events_event", "cancel_events", [event], confirmed="yes")
        assert counts(event) == (0, 0)

    def test_capacity_raise_in_the_form(self, client, organizer):
        event = EventFactory(organizer=organizer, capacity=1)
        fill(event, 3)
        client.force_login(organizer)
        form = {
            "title": event.title,
            "description": event.description,
            "location": event.location,
            "start_at_0": event.start_at.strftime("%Y-%m-%d"),
            "start_at_1": event.start_at.strftime("%H:%M:%S"),
            "end_at_0": event.end_at.strftime("%Y-%m-%d"),
            "end_at_1": event.end_at.strftime("%H:%M:%S"),
            "capacity": 3,
            "waitlist_enabled": "on",
            "registrations-TOTAL_FORMS": 3,
            "registrations-INITIAL_FORMS": 3,
            "registrations-MIN_NUM_FORMS": 0,
            "registrations-MAX_NUM_FORMS": 0,
            **{f"registrations-{i}-id": str(r.pk) for i, r in enumerate(event.registrations.all())},
            **{f"registrations-{i}-event": str(event.pk) for i in range(3)},
        }
        response = client.post(reverse("admin:events_event_change", args=[event.pk]), form)
        assert response.status_code == 302, response.content.decode()[:2000]
        assert counts(event) == (3, 0)


class TestDoorCounts:
    def test_columns_and_one_aggregate(self, django_assert_num_queries):
        event = EventFactory(capacity=2)
        first, _, _, fourth = fill(event, 4)
        checkin_scan(ticket_code=first.ticket_code, event=event, by=event.organizer)
        registration_cancel(registration=fourth, by=fourth.user)
        event = Event.objects.get(pk=event.pk)
        with django_assert_num_queries(1):
            door = registration_door_counts(event=event)
        assert door == {
            "confirmed": 2, "checked_in": 1, "not_checked_in": 1, "waitlisted": 1, "cancelled": 1, "inside": 1
        }  # fmt: skip


class TestBackfill:
    def test_the_migration_fills_the_columns_from_the_registrations(self):
        full, empty = EventFactory(capacity=2), EventFactory()
        fill(full, 5)
        registration_cancel(
            registration=full.registrations.filter(status="waitlisted").first(), by=full.organizer
        )
        RegistrationFactory(event=empty, status=Registration.Status.CANCELLED)
        Event.objects.update(confirmed_count=9, waitlisted_count=9)
        with CaptureQueriesContext(connection) as captured:
            backfill_counts(apps, None)
        assert len(captured.captured_queries) == 1  # one set-based UPDATE
        assert counts(full) == (2, 2) and counts(empty) == (0, 0)


class TestRecountEvents:
    @pytest.mark.count_drift
    def test_reports_drift_and_fails(self, capsys):
        ok, drifted = EventFactory(capacity=2), EventFactory(capacity=2)
        fill(ok, 1)
        fill(drifted, 3)
        drift_out_of(drifted, confirmed=1, waitlisted=1)
        with pytest.raises(CommandError, match=r"^1 counter\(s\) of 1 event\(s\) drifted; run with --fix"):
            call_command("recount_events")
        assert capsys.readouterr().out.splitlines() == [f"{drifted.pk}  confirmed_count  stored 1  actual 2"]
        assert counts(ok) == (1, 0)

    def test_fix_corrects_and_a_second_run_is_clean(self, capsys):
        events = [EventFactory(capacity=1) for _ in range(3)]
        for event in events:
            fill(event, 2)
        drift_out_of(events[0])
        drift_out_of(events[2], confirmed=1, waitlisted=0)
        call_command("recount_events", "--fix")
        out = capsys.readouterr().out
        assert f"{events[0].pk}  confirmed_count  stored 7  actual 1" in out
        assert f"{events[0].pk}  waitlisted_count  stored 5  actual 1" in out
        assert f"{events[2].pk}  waitlisted_count  stored 0  actual 1" in out
        assert str(events[1].pk) not in out and "Fixed 2 event(s)" in out
        assert event_counts_drift() == []
        call_command("recount_events")
        assert "Checked 3 event(s): every counter matches" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_recount_events_cli_exit_codes():
    event = EventFactory(capacity=1)
    fill(event, 2)
    drift_out_of(event)

    def run(*args):
        return subprocess.run(
            [sys.executable, "manage.py", "recount_events", *args], env=server_env(LOG_LEVEL="WARNING"),
            cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    result = run()
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert f"{event.pk}  confirmed_count  stored 7  actual 1" in result.stdout
    assert run("--fix").returncode == 0
    assert run().returncode == 0
    assert counts(event) == (1, 1)
