"""send_reminders and export_attendees."""

import csv
import io
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.tests.factories import UserFactory
from eventmaster.tests.server import server_env
from eventmaster.tests.utils import run_tasks
from events.models import Event
from events.tests.factories import EventFactory
from registrations.models import Mail
from registrations.services import registration_cancel, registration_create

pytestmark = pytest.mark.django_db


def soon(hours: float) -> dict:
    start = timezone.now() + timedelta(hours=hours)
    return {"start_at": start, "end_at": start + timedelta(hours=2)}


@pytest.fixture
def remind(django_capture_on_commit_callbacks, capsys):
    def run(*args):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("send_reminders", *args)
        run_tasks()  # the workers send them
        return capsys.readouterr().out

    return run


class TestSendReminders:
    def test_each_confirmed_attendee_once_however_often_it_runs(self, remind):
        event = EventFactory(capacity=2, **soon(5))
        attendees = [registration_create(event=event, user=UserFactory()) for _ in range(3)]  # 2 + 1 waiting
        assert "Queued 2 reminder(s) for 1 event(s)" in remind()
        assert sorted(m.to[0] for m in mail.outbox) == sorted(r.user.email for r in attendees[:2])
        assert {m.subject for m in mail.outbox} == {f"Reminder: {event.title}"}
        types = {part.get_content_type() for part in mail.outbox[0].message().walk()}
        assert {"text/plain", "text/html", "image/png", "text/calendar"} <= types  # QR inline, .ics attached
        for _ in range(3):
            assert "Queued 0 reminder(s)" in remind()
        assert len(mail.outbox) == 2
        assert Mail.objects.filter(kind="reminder", status="sent").count() == 2

    def test_only_events_in_the_window(self, remind):
        inside = EventFactory(**soon(23))
        later = EventFactory(**soon(30))
        for event in (inside, later):
            registration_create(event=event, user=UserFactory())
        remind()
        assert [m.subject for m in mail.outbox] == [f"Reminder: {inside.title}"]
        mail.outbox.clear()
        remind("--hours", "48")
        assert [m.subject for m in mail.outbox] == [f"Reminder: {later.title}"]

    def test_not_for_cancelled_registrations_or_events(self, remind):
        event = EventFactory(**soon(3))
        cancelled = registration_create(event=event, user=UserFactory())
        registration_cancel(registration=cancelled, by=cancelled.user)
        called_off = EventFactory(**soon(3))
        registration_create(event=called_off, user=UserFactory())
        Event.objects.filter(pk=called_off.pk).update(status=Event.Status.CANCELLED)
        started = EventFactory(**soon(1))
        registration_create(event=started, user=UserFactory())
        Event.objects.filter(pk=started.pk).update(start_at=timezone.now() - timedelta(minutes=5))
        assert "Queued 0 reminder(s)" in remind()
        assert mail.outbox == []

    def test_re_registering_does_not_bring_a_second_reminder(self, remind, member):
        event = EventFactory(**soon(3))
        first = registration_create(event=event, user=member)
        remind()
        registration_cancel(registration=first, by=member)
        registration_create(event=event, user=member)
        mail.outbox.clear()
        assert "Queued 0 reminder(s)" in remind()

    @pytest.mark.parametrize(("value", "message"), [("0", "between 1 and 8760"), ("x", "whole number")])
    def test_bad_hours(self, value, message):
        with pytest.raises(CommandError, match=message):
            call_command("send_reminders", "--hours", value)


class TestExportAttendees:
    def test_to_stdout_and_to_a_file(self, capsys, tmp_path, organizer):
        event = EventFactory(organizer=organizer)
        regs = [registration_create(event=event, user=UserFactory()) for _ in range(3)]
        call_command("export_attendees", str(event.pk))
        rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
        assert rows[0][0] == "registration_id" and [r[0] for r in rows[1:]] == [str(r.pk) for r in regs]
        target = tmp_path / "out.csv"
        call_command("export_attendees", str(event.pk), "-o", str(target))
        assert list(csv.reader(target.open())) == rows
        assert "Wrote 3 registration(s)" in capsys.readouterr().err

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["nope"], "is not an event id"),
            (["6f1e0b4e-0000-4000-8000-000000000000"], "No event with id"),
        ],
    )
    def test_bad_input(self, args, message):
        with pytest.raises(CommandError, match=message):
            call_command("export_attendees", *args)

    def test_unwritable_output(self, organizer):
        event = EventFactory(organizer=organizer)
        with pytest.raises(CommandError, match="Cannot write"):
            call_command("export_attendees", str(event.pk), "-o", "/nonexistent-dir/x.csv")


@pytest.mark.django_db(transaction=True)
def test_cli_errors_are_one_line_with_a_non_zero_exit():
    for args in (["send_reminders", "--hours", "-3"], ["export_attendees", "nope"]):
        result = subprocess.run(
            [sys.executable, "manage.py", *args], env=server_env(LOG_LEVEL="WARNING"), cwd=settings.BASE_DIR,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
