"""How an attendee mail gets through a bad mail server: retried with backoff
while the failure is temporary, failed (and visible) when it is permanent or
lasts past a day, never sent twice, and never lost by a lost task. In-process
(run_tasks); with a real SMTP server and real workers: test_mail_server.py."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.tests.factories import UserFactory
from eventmaster.tests.utils import run_tasks
from events import services as event_services
from events.tests.factories import EventFactory
from registrations import mails
from registrations.models import Mail, MailFanOut, Registration
from registrations.services import registration_cancel, registration_create

from .mail_backends import ScriptedBackend

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def scripted(settings):
    settings.EMAIL_BACKEND = "registrations.tests.mail_backends.ScriptedBackend"
    ScriptedBackend.script, ScriptedBackend.refuse_open, ScriptedBackend.opened = [], None, 0
    yield ScriptedBackend
    ScriptedBackend.script, ScriptedBackend.refuse_open = [], None


@pytest.fixture
def register(django_capture_on_commit_callbacks):
    def run(event=None, user=None) -> Registration:
        with django_capture_on_commit_callbacks(execute=True):
            return registration_create(event=event or EventFactory(), user=user or UserFactory())

    return run


def come_back_later(mail_row: Mail) -> None:
    """Let time pass until the mail's next attempt (and its task) are due."""
    Mail.objects.filter(pk=mail_row.pk).update(next_attempt_at=timezone.now())
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())


TEMPORARY = [
    ConnectionResetError("reset by peer"),
    smtplib.SMTPServerDisconnected("gone"),
    smtplib.SMTPResponseException(451, b"try again later"),
    smtplib.SMTPRecipientsRefused({"a@example.org": (450, b"mailbox busy")}),
]
PERMANENT = [
    smtplib.SMTPRecipientsRefused({"a@example.org": (550, b"no such user")}),
    smtplib.SMTPSenderRefused(553, b"sender refused", "noreply@localhost"),
    smtplib.SMTPDataError(554, b"rejected"),
]


class TestRetries:
    @pytest.mark.parametrize("error", TEMPORARY, ids=lambda e: type(e).__name__)
    def test_a_temporary_failure_is_retried_later_and_then_sent_once(self, register, scripted, error):
        scripted.script = [error]
        registration = register()
        run_tasks()
        queued = Mail.objects.get(registration=registration)
        assert queued.status == "pending" and queued.attempts == 1 and mail.outbox == []
        assert type(error).__name__ in queued.last_error
        wait = queued.next_attempt_at - timezone.now()
        assert timedelta(seconds=50) < wait <= timedelta(seconds=60)  # MAIL_RETRY_FIRST_SECONDS
        retry = DBTaskResult.objects.get(status="READY")
        assert retry.run_after >= queued.next_attempt_at  # a task waits for it
        assert run_tasks() == 0  # not before its time
        come_back_later(queued)
        run_tasks()
        queued.refresh_from_db()
        assert queued.status == "sent" and queued.attempts == 2 and queued.last_error == ""
        assert [m.to for m in mail.outbox] == [[registration.user.email]]

    def test_the_backoff_doubles_up_to_its_cap(self, register, scripted, settings):
        settings.MAIL_RETRY_MAX_SECONDS = 300
        scripted.script = [TimeoutError("slow")] * 5
        queued_registration = register()
        waits = []
        for _ in range(5):
            run_tasks()
            queued = Mail.objects.get(registration=queued_registration)
            waits.append(round((queued.next_attempt_at - timezone.now()).total_seconds() / 60))
            come_back_later(queued)
        assert waits == [1, 2, 4, 5, 5]  # minutes: 60 s doubling, capped at 300 s
        run_tasks()
        assert Mail.objects.get(registration=queued_registration).status == "sent"

    def test_it_gives_up_after_a_day_and_shows_failed(self, register, scripted, settings):
        scripted.script = [TimeoutError("slow")] * 3
        registration = register()
        run_tasks()
        queued = Mail.objects.get(registration=registration)
        # A day has passed since it was queued: the next failure is the last.
        Mail.objects.filter(pk=queued.pk).update(give_up_at=timezone.now() + timedelta(seconds=30))
        come_back_later(queued)
        run_tasks()
        queued.refresh_from_db()
        assert queued.status == "failed" and "TimeoutError" in queued.last_error and queued.attempts == 2
        assert run_tasks() == 0 and mail.outbox == []

    @pytest.mark.parametrize("error", PERMANENT, ids=lambda e: type(e).__name__)
    def test_a_permanent_refusal_fails_at_once(self, register, scripted, error):
        scripted.script = [error]
        registration = register()
        run_tasks()
        queued = Mail.objects.get(registration=registration)
        assert (
            queued.status == "failed" and queued.attempts == 1 and type(error).__name__ in queued.last_error
        )
        assert DBTaskResult.objects.filter(status="READY").count() == 0  # no retry

    def test_a_server_that_is_down_defers_the_whole_batch_with_one_connection_attempt(
        self, scripted, django_capture_on_commit_callbacks, settings
    ):
        event = EventFactory(capacity=5)
        with django_capture_on_commit_callbacks(execute=True):
            for _ in range(5):
                registration_create(event=event, user=UserFactory())
        DBTaskResult.objects.all().delete()  # one batch instead of five tasks
        scripted.refuse_open = ConnectionRefusedError("connection refused")
        ids = [str(pk) for pk in Mail.objects.values_list("pk", flat=True)]
        assert mails.send(ids) == {"retry": 5}
        assert set(Mail.objects.values_list("status", "attempts")) == {("pending", 1)}
        scripted.refuse_open = None
        Mail.objects.update(next_attempt_at=timezone.now())
        assert mails.send(ids) == {"sent": 5}
        assert scripted.opened == 1 and len(mail.outbox) == 5  # one connection for the batch

    def test_a_mail_that_cannot_be_built_fails_and_the_batch_goes_on(self, register, monkeypatch):
        first, second = register(), register()
        DBTaskResult.objects.all().delete()
        real_build = mails._build

        def broken(row):
            if row.registration_id == first.pk:
                raise ValueError("a template bug")
            return real_build(row)

        monkeypatch.setattr(mails, "_build", broken)
        ids = [str(pk) for pk in Mail.objects.values_list("pk", flat=True)]
        assert mails.send(ids) == {"failed": 1, "sent": 1}
        assert Mail.objects.get(registration=first).last_error.startswith("could not build the mail")
        assert [m.to[0] for m in mail.outbox] == [second.user.email]


class TestOnce:
    def test_a_claimed_mail_is_not_sent_by_a_second_worker(self, register):
        registration = register()
        queued = Mail.objects.get(registration=registration)
        # Another worker holds it (mid-send).
        Mail.objects.filter(pk=queued.pk).update(claimed_until=timezone.now() + timedelta(minutes=1))
        assert mails.send([str(queued.pk)]) == {"skipped": 1}
        # Its claim expires (that worker died): the next run sends it.
        Mail.objects.filter(pk=queued.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
        assert mails.send([str(queued.pk)]) == {"sent": 1}
        assert mails.send([str(queued.pk)]) == {}  # sent: not even looked at

    def test_the_same_message_id_on_every_attempt(self, register, scripted):
        scripted.script = [TimeoutError("slow")]
        registration = register()
        run_tasks()
        queued = Mail.objects.get(registration=registration)
        come_back_later(queued)
        run_tasks()
        (sent,) = mail.outbox
        assert sent.extra_headers["Message-ID"] == f"<{queued.pk}@eventmaster.invalid>"

    def test_queueing_twice_writes_one_row(self, django_capture_on_commit_callbacks):
        registration = registration_create(event=EventFactory(), user=UserFactory())
        with django_capture_on_commit_callbacks(execute=True):
            mails.queue(registration, Mail.Kind.CONFIRMED)  # already queued by registration_create
        assert Mail.objects.filter(registration=registration).count() == 1

    def test_a_fan_out_run_twice_mails_each_attendee_once(self, django_capture_on_commit_callbacks):
        event = EventFactory(capacity=3)
        regs = [registration_create(event=event, user=UserFactory()) for _ in range(3)]
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            event_services.event_cancel(event=event)
        fan_out = MailFanOut.objects.get(kind="event_cancelled")
        run_tasks()
        MailFanOut.objects.filter(pk=fan_out.pk).update(done_at=None)  # as if its worker died at the end
        assert mails.fan_out(fan_out.pk) == 0  # nothing left pending
        run_tasks()
        assert sorted(m.to[0] for m in mail.outbox) == sorted(r.user.email for r in regs)


class TestLostTasks:
    def test_housekeeping_queues_again_a_mail_whose_task_was_lost(self, django_capture_on_commit_callbacks):
        # Committed, but the process died before its task was queued.
        registration = registration_create(event=EventFactory(), user=UserFactory())
        queued = Mail.objects.get(registration=registration)
        assert run_tasks() == 0
        assert mails.resume() == 0  # not overdue yet
        Mail.objects.filter(pk=queued.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=16))
        with django_capture_on_commit_callbacks(execute=True):
            assert mails.resume() == 1
            assert mails.resume() == 0  # not again before another 15 minutes
        run_tasks()
        assert [m.to[0] for m in mail.outbox] == [registration.user.email]

    def test_housekeeping_restarts_an_unfinished_fan_out(self):
        event = EventFactory(capacity=2)
        regs = [registration_create(event=event, user=UserFactory()) for _ in range(2)]
        event_services.event_cancel(event=event)  # its fan-out task is lost (no commit here)
        assert run_tasks() == 0
        MailFanOut.objects.update(queued_at=timezone.now() - timedelta(minutes=16))
        mails.resume()
        run_tasks()
        assert sorted(m.to[0] for m in mail.outbox if m.subject.startswith("Event cancelled")) == sorted(
            r.user.email for r in regs
        )
        assert MailFanOut.objects.get().done_at is not None


class TestPromotion:
    def test_a_capacity_raise_promotes_in_one_update_and_mails_only_the_promoted(
        self, django_capture_on_commit_callbacks
    ):
        event = EventFactory(capacity=1)
        registration_create(event=event, user=UserFactory())
        waiting = [registration_create(event=event, user=UserFactory()) for _ in range(4)]
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            event_services.event_update(event=event, capacity=3)
        run_tasks()
        promoted = [r for r in waiting if Registration.objects.get(pk=r.pk).status == "confirmed"]
        assert promoted == waiting[:2]  # oldest first
        assert sorted(m.to[0] for m in mail.outbox) == sorted(r.user.email for r in waiting[:2])
        assert all(m.subject.startswith("You are in: off the waitlist") for m in mail.outbox)

    def test_each_promotion_mails_its_own(self, django_capture_on_commit_callbacks):
        event = EventFactory(capacity=1)
        first = registration_create(event=event, user=UserFactory())
        second, third = (registration_create(event=event, user=UserFactory()) for _ in range(2))
        with django_capture_on_commit_callbacks(execute=True):
            registration_cancel(registration=first, by=first.user)
        run_tasks()
        second.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            registration_cancel(registration=second, by=second.user)
        run_tasks()
        promoted = [m.to[0] for m in mail.outbox if m.subject.startswith("You are in")]
        assert sorted(promoted) == sorted([second.user.email, third.user.email])

    def test_no_promotion_mail_to_someone_who_cancelled_before_it_went(
        self, django_capture_on_commit_callbacks
    ):
        event = EventFactory(capacity=1)
        first = registration_create(event=event, user=UserFactory())
        second = registration_create(event=event, user=UserFactory())
        with django_capture_on_commit_callbacks(execute=True):
            registration_cancel(registration=first, by=first.user)
            second.refresh_from_db()
            registration_cancel(registration=second, by=second.user)  # before the workers ran
        mail.outbox.clear()
        run_tasks()
        assert [m.subject.split(":")[0] for m in mail.outbox if m.to == [second.user.email]] == [
            "Registration cancelled"
        ]


class TestOperations:
    def test_retry_mails_lists_and_sends_failed_mails_again(
        self, register, scripted, capsys, django_capture_on_commit_callbacks
    ):
        scripted.script = [smtplib.SMTPRecipientsRefused({"x": (550, b"no such user")})]
        registration = register()
        run_tasks()
        queued = Mail.objects.get(registration=registration)
        assert queued.status == "failed"
        call_command("retry_mails", "--list")
        out = capsys.readouterr().out
        assert str(queued.pk) in out and "1 failed mail(s)" in out
        with django_capture_on_commit_callbacks(execute=True):
            call_command("retry_mails")
        assert "Queued 1 failed mail(s)" in capsys.readouterr().out
        queued.refresh_from_db()
        assert queued.status == "pending" and queued.attempts == 0 and queued.give_up_at > timezone.now()
        run_tasks()
        assert Mail.objects.get(pk=queued.pk).status == "sent" and len(mail.outbox) == 1

    def test_task_queue_shows_waiting_running_failed_and_the_oldest_age(self, register, capsys):
        register()
        register()
        three_minutes_ago = timezone.now() - timedelta(minutes=3)
        DBTaskResult.objects.filter(status="READY").update(
            enqueued_at=three_minutes_ago, run_after=three_minutes_ago
        )
        call_command("task_queue")
        out = capsys.readouterr().out
        assert "waiting 2" in out and "running 0" in out and "failed 0" in out
        assert "oldest waiting 18" in out  # 180 s
        call_command("task_queue", "--json")
        import json

        state = json.loads(capsys.readouterr().out)
        assert state["waiting"] == 2 and 170 < state["oldest_waiting_seconds"] < 200 and state["workers"] == 0
