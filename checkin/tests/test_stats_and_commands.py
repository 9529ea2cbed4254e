"""GET /events/{id}/checkin-stats, and the checkin / event_stats commands."""

import subprocess
import sys
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from accounts.tests.factories import UserFactory
from checkin import services
from checkin.models import Scan
from checkin.services import checkin_scan, checkin_undo
from eventmaster.tests.server import server_env
from eventmaster.tests.utils import assert_error, client_for
from events.models import Event
from events.tests.factories import EventFactory
from registrations.services import registration_cancel, registration_create

pytestmark = pytest.mark.django_db


def at(hh: int, mm: int, ss: int) -> datetime:
    return datetime(2030, 5, 1, hh, mm, ss, tzinfo=UTC)


def scan_at(monkeypatch, when: datetime, **kwargs):
    # services.timezone is django.utils.timezone itself: patch it for this
    # scan only, not for the requests the test makes afterwards.
    with monkeypatch.context() as patch:
        patch.setattr(services.timezone, "now", lambda: when)
        return checkin_scan(**kwargs)


@pytest.fixture
def crowd(event, organizer, monkeypatch):
    """3 confirmed and checked in at 18:00:10, 18:00:50 and 18:02:05 (one of
    them undone and checked in again at 18:03:30), 1 confirmed not checked
    in, 1 waitlisted, 1 cancelled."""
    Event.objects.filter(pk=event.pk).update(capacity=4)
    regs = [registration_create(event=event, user=UserFactory()) for _ in range(3)]
    cancelled = registration_create(event=event, user=UserFactory())
    registration_cancel(registration=cancelled, by=cancelled.user)
    regs.append(registration_create(event=event, user=UserFactory()))  # takes the freed seat
    registration_create(event=event, user=UserFactory())  # waitlisted
    for reg, when in zip(regs[:3], (at(18, 0, 10), at(18, 0, 50), at(18, 2, 5)), strict=True):
        scan_at(monkeypatch, when, ticket_code=reg.ticket_code, event=event, by=organizer)
    checkin_undo(ticket_code=regs[2].ticket_code, event=event, by=organizer)
    scan_at(monkeypatch, at(18, 3, 30), ticket_code=regs[2].ticket_code, event=event, by=organizer)
    scan_at(monkeypatch, at(18, 3, 40), ticket_code=regs[2].ticket_code, event=event, by=organizer)  # already
    return regs


class TestStats:
    def test_counts_and_arrivals_per_minute(self, organizer_client, event, crowd):
        response = organizer_client.get(f"/api/v1/events/{event.pk}/checkin-stats")
        assert response.status_code == 200
        assert response.json() == {
            "confirmed": 3 + 1,
            "checked_in": 3,
            "not_checked_in": 1,
            "waitlisted": 1,
            "cancelled": 1,
            "inside": 3,
            "arrivals": [
                {"minute": "2030-05-01T18:00:00Z", "count": 2},
                {"minute": "2030-05-01T18:03:00Z", "count": 1},
            ],
        }

    def test_computed_in_the_database(self, organizer_client, event, crowd, django_assert_num_queries):
        with django_assert_num_queries(4):  # user with roles, event, counts, arrivals
            organizer_client.get(f"/api/v1/events/{event.pk}/checkin-stats")

    def test_empty_event(self, organizer_client, event):
        body = organizer_client.get(f"/api/v1/events/{event.pk}/checkin-stats").json()
        assert body == {
            "confirmed": 0,
            "checked_in": 0,
            "not_checked_in": 0,
            "waitlisted": 0,
            "cancelled": 0,
            "inside": 0,
            "arrivals": [],
        }

    def test_roles(
        self, admin_client, staff_client, member_client, checkin_client, api_client, event, organizer
    ):
        url = f"/api/v1/events/{event.pk}/checkin-stats"
        assert admin_client.get(url).status_code == 200
        assert staff_client.get(url).status_code == 200
        assert_error(member_client.get(url), 403, "permission_denied")
        assert_error(
            client_for(UserFactory(roles=["member", "organizer"])).get(url), 403, "permission_denied"
        )
        assert_error(api_client.get(url), 401, "not_authenticated")
        draft = EventFactory(organizer=organizer, status=Event.Status.DRAFT)
        assert_error(checkin_client.get(f"/api/v1/events/{draft.pk}/checkin-stats"), 404, "not_found")


class TestCheckinCommand:
    def test_ok_then_already(self, event, registration, capsys):
        call_command("checkin", str(event.pk), registration.ticket_code)
        assert capsys.readouterr().out.startswith("ok | ")
        call_command("checkin", str(event.pk), registration.ticket_code)
        assert capsys.readouterr().out.startswith("already_checked_in | ")

    def test_by_records_who(self, event, registration, checkin_user):
        event.staff.add(checkin_user)
        call_command("checkin", str(event.pk), registration.ticket_code, by=checkin_user.email)
        registration.refresh_from_db()
        assert registration.checked_in_by == checkin_user

    def test_by_must_be_allowed_at_that_door(self, event, registration, member, checkin_user):
        other_organizer = UserFactory(roles=["member", "organizer"])
        for user in (member, checkin_user, other_organizer):  # checkin_user: not assigned here
            with pytest.raises(CommandError, match="may not check in at"):
                call_command("checkin", str(event.pk), registration.ticket_code, by=user.email)
        registration.refresh_from_db()
        assert registration.checked_in_at is None
        assert not Scan.objects.exists()
        for user in (event.organizer, UserFactory(roles=["member", "admin"])):
            call_command("checkin", str(event.pk), registration.ticket_code, by=user.email)

    def test_refusal_exits_1_with_the_result(self, event, capsys):
        with pytest.raises(SystemExit) as exit_info:
            call_command("checkin", str(event.pk), "bogus")
        assert exit_info.value.code == 1
        assert capsys.readouterr().out.strip() == "invalid"

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["not-a-uuid", "x"], "is not an event id"),
            (["6f1e0b4e-0000-4000-8000-000000000000", "x"], "No event with id"),
        ],
    )
    def test_bad_input_is_a_command_error(self, args, message):
        with pytest.raises(CommandError, match=message):
            call_command("checkin", *args)

    def test_unknown_by_user(self, event, registration):
        with pytest.raises(CommandError, match="No user with e-mail"):
            call_command("checkin", str(event.pk), registration.ticket_code, by="ghost@example.org")


@pytest.mark.django_db(transaction=True)
def test_cli_exit_statuses_and_one_line_output(event, registration):
    def run(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args], env=server_env(LOG_LEVEL="WARNING"), cwd=settings.BASE_DIR,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    ok = run("checkin", str(event.pk), registration.ticket_code)
    assert (ok.returncode, len(ok.stdout.strip().splitlines())) == (0, 1)
    again = run("checkin", str(event.pk), registration.ticket_code)
    assert again.returncode == 0 and again.stdout.startswith("already_checked_in")
    refused = run("checkin", str(event.pk), "bogus")
    assert (refused.returncode, refused.stdout.strip()) == (1, "invalid")
    bad = run("checkin", "nope", "x")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    stats = run("event_stats", str(event.pk))
    assert stats.returncode == 0 and "checked in" in stats.stdout


def test_event_stats_table(event, crowd, capsys):
    call_command("event_stats", str(event.pk))
    out = capsys.readouterr().out
    assert event.title in out
    assert "checked in" in out and "18:00      2" in out
    with pytest.raises(CommandError):
        call_command("event_stats", "nope")
