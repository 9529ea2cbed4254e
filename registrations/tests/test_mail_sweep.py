"""A single attendee's mail is sent by its process's sweep (registrations.mails
._Sweep): the mails a process queues in one MAIL_SEND_WINDOW_SECONDS window
carry the window's key, and one task, due a window after it closes, sends
them. The suite's other tests run with a window of 0 (a sweep per mail, due
at its commit); these set it to half a second and hold the process's clock."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import OperationalError
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from accounts.tests.factories import UserFactory
from eventmaster.tests.utils import run_tasks
from events.tests.factories import EventFactory
from registrations import mails
from registrations.models import Mail
from registrations.services import registration_create

pytestmark = pytest.mark.django_db

SWEEP = "registrations.tasks.send_sweep"


@pytest.fixture
def window(settings, monkeypatch):
    """A half-second window, and this process's monotonic clock in the test's hands."""
    settings.MAIL_SEND_WINDOW_SECONDS = 0.5  # a new window (the setting changed)
    clock = [1000.0]
    monkeypatch.setattr(mails, "monotonic", lambda: clock[0])
    return clock


def sweeps() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=SWEEP).order_by("enqueued_at"))


def key_of(task: DBTaskResult) -> str:
    (key,) = task.args_kwargs["args"]
    return key


def sign_ups(count: int, capture, event=None) -> list:
    """``count`` sign-ups, each committed (its on-commit callbacks run)."""
    event = event or EventFactory(capacity=100)
    registrations = []
    for _ in range(count):
        with capture(execute=True):
            registrations.append(registration_create(event=event, user=UserFactory()))
    return registrations


def due_now() -> None:
    """The queued sweeps have come due."""
    DBTaskResult.objects.filter(task_path=SWEEP).update(run_after=timezone.now() - timedelta(seconds=1))


def test_the_mails_of_one_window_go_in_one_sweep_a_window_after_it_closes(
    window, django_capture_on_commit_callbacks
):
    before = timezone.now()
    registrations = sign_ups(5, django_capture_on_commit_callbacks)
    (sweep,) = sweeps()
    # Opened by the first mail: closes 0.5 s later, due 0.5 s after that.
    assert before + timedelta(seconds=1) <= sweep.run_after <= timezone.now() + timedelta(seconds=1)
    assert set(Mail.objects.values_list("sweep", flat=True)) == {mails._Sweep._current.key}
    assert key_of(sweep) == str(mails._Sweep._current.key)
    assert DBTaskResult.objects.count() == 1  # no task per mail
    assert run_tasks() == 0 and mail.outbox == []  # not before it is due
    due_now()
    assert run_tasks() == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.user.email for r in registrations)
    assert set(Mail.objects.values_list("status", flat=True)) == {Mail.Status.SENT}


def test_the_next_window_has_its_own_sweep(window, django_capture_on_commit_callbacks):
    sign_ups(2, django_capture_on_commit_callbacks)
    window[0] += 0.49
    sign_ups(1, django_capture_on_commit_callbacks)
    assert len(sweeps()) == 1
    window[0] += 0.02  # past the first window
    sign_ups(1, django_capture_on_commit_callbacks)
    first, second = sweeps()
    assert key_of(first) != key_of(second)
    assert Mail.objects.filter(sweep=key_of(first)).count() == 3
    assert Mail.objects.filter(sweep=key_of(second)).count() == 1
    due_now()
    assert run_tasks() == 2
    assert len(mail.outbox) == 4


def test_a_commit_when_its_sweep_is_about_to_run_queues_another(window, django_capture_on_commit_callbacks):
    """A transaction that outlived its window commits when the window's
    sweep is due within half a window (it may have run already): another
    sweep of the same key, due a window later, sends what the first missed."""
    event = EventFactory(capacity=100)
    sign_ups(1, django_capture_on_commit_callbacks, event)
    current = mails._Sweep._current
    current.due = timezone.now() + timedelta(seconds=0.2)
    with django_capture_on_commit_callbacks(execute=True):
        registration_create(event=event, user=UserFactory())
        window[0] += 5  # the commit comes long after the window closed
        before = timezone.now()
    after = timezone.now()
    first, second = sweeps()
    assert key_of(first) == key_of(second) == str(current.key)
    assert before + timedelta(seconds=0.5) <= second.run_after <= after + timedelta(seconds=0.5)
    due_now()
    assert run_tasks() == 2
    assert len(mail.outbox) == 2  # each once: the second sweep found one sent


def test_a_failed_queueing_leaves_the_next_commit_to_queue_the_sweep(
    window, monkeypatch, django_capture_on_commit_callbacks
):
    original = DatabaseBackend.enqueue

    def down(self, *args, **kwargs):
        monkeypatch.setattr(DatabaseBackend, "enqueue", original)  # back for the next commit
        raise OperationalError("the task queue's database is gone")

    monkeypatch.setattr(DatabaseBackend, "enqueue", down)
    event = EventFactory(capacity=100)
    sign_ups(1, django_capture_on_commit_callbacks, event)  # logged, not raised
    assert sweeps() == []
    sign_ups(1, django_capture_on_commit_callbacks, event)  # the same window: queued this time
    assert len(sweeps()) == 1
    due_now()
    run_tasks()
    assert len(mail.outbox) == 2  # the first mail too: its row was committed


def test_a_sweep_sends_its_own_pending_mails_in_batches_and_nothing_twice(
    settings, window, monkeypatch, django_capture_on_commit_callbacks
):
    settings.MAIL_BATCH_SIZE = 2
    connections = []
    real_open = mails._open
    monkeypatch.setattr(mails, "_open", lambda: connections.append(1) or real_open())
    event = EventFactory(capacity=100)
    own = sign_ups(6, django_capture_on_commit_callbacks, event)
    key = key_of(sweeps()[0])
    window[0] += 1
    (other_window,) = sign_ups(1, django_capture_on_commit_callbacks, event)
    fan_out = mails.queue_fan_out(event.pk, Mail.Kind.REMINDER)
    mails.fan_out(fan_out.pk)  # rows of their own tasks, no sweep
    held = own[0]  # another worker is sending it
    Mail.objects.filter(registration=held).update(claimed_until=timezone.now() + timedelta(minutes=5))

    assert mails.send_sweep(key) == {"sent": 5, "skipped": 1}
    assert len(connections) == 3  # a connection per batch of 2
    assert mails.send_sweep(key) == {"skipped": 1}  # run again: nothing goes twice
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.user.email for r in own[1:])
    pending = Mail.objects.filter(status=Mail.Status.PENDING)
    assert set(pending.filter(kind="confirmed").values_list("registration", flat=True)) == {
        held.pk,
        other_window.pk,
    }
    assert pending.filter(kind="reminder", sweep=None).count() == 7  # the fan-out's: untouched


@pytest.mark.parametrize("past_give_up", [False, True])
def test_a_server_down_retry_leaves_another_workers_claim_alone(
    past_give_up, monkeypatch, django_capture_on_commit_callbacks
):
    """The mails of a batch the run did not get to (the SMTP server is down)
    wait for their retry, or fail past their give-up time, except one
    another worker holds: it is that worker's to send, retry or fail."""
    registrations = sign_ups(3, django_capture_on_commit_callbacks)
    if past_give_up:
        Mail.objects.update(give_up_at=timezone.now() + timedelta(seconds=1))
    held = Mail.objects.get(registration=registrations[2])
    claim = timezone.now() + timedelta(minutes=5)
    Mail.objects.filter(pk=held.pk).update(claimed_until=claim, attempts=1)

    def down():
        raise mails._ServerDown("ConnectionRefusedError: [Errno 111] Connection refused")

    monkeypatch.setattr(mails, "_open", down)
    outcome = mails.send(Mail.objects.order_by("created_at").values_list("pk", flat=True))
    assert outcome == {"failed" if past_give_up else "retry": 2, "skipped": 1}
    held.refresh_from_db()
    assert held.status == "pending" and held.claimed_until == claim and held.last_error == ""
    assert held.next_attempt_at < timezone.now()
    others = Mail.objects.exclude(pk=held.pk)
    assert all("refused" in m.last_error for m in others)
    if past_give_up:
        assert {m.status for m in others} == {"failed"}
    else:
        assert all(m.status == "pending" and m.next_attempt_at > timezone.now() for m in others)


def test_a_sweeps_mail_still_pending_a_minute_after_it_was_due_is_queued_again(
    settings, window, django_capture_on_commit_callbacks
):
    """Its sweep missed it (a worker clock ahead of the web's, an old worker
    during a deploy, the queueing failed): the housekeeping queues it after
    MAIL_SWEEP_RESUME_AFTER_SECONDS; a fan-out's mail waits the usual
    MAIL_RESUME_AFTER_SECONDS."""
    event = EventFactory(capacity=100)
    (registration,) = sign_ups(1, django_capture_on_commit_callbacks, event)
    fan_out = mails.queue_fan_out(event.pk, Mail.Kind.REMINDER)
    mails.fan_out(fan_out.pk)
    (tried,) = sign_ups(1, django_capture_on_commit_callbacks, event)
    Mail.objects.filter(registration=tried).update(attempts=1)  # waiting for its retry's own task
    DBTaskResult.objects.all().delete()  # the tasks were lost
    a_minute_ago = timezone.now() - timedelta(seconds=settings.MAIL_SWEEP_RESUME_AFTER_SECONDS + 1)
    Mail.objects.update(next_attempt_at=a_minute_ago)
    with django_capture_on_commit_callbacks(execute=True):
        assert mails.resume() == 1
    requeued = Mail.objects.get(registration=registration, kind="confirmed")
    assert requeued.sweep is None  # once: now an ordinary mail, for the usual MAIL_RESUME_AFTER_SECONDS
    assert run_tasks() == 1
    assert [m.to for m in mail.outbox] == [[registration.user.email]]
    assert Mail.objects.get(kind="reminder", registration=registration).status == "pending"
    assert Mail.objects.get(registration=tried, kind="confirmed").status == "pending"


def test_a_sweeps_mail_is_queued_again_only_once_while_the_queue_runs_late(
    settings, window, django_capture_on_commit_callbacks
):
    """A queue a minute behind: the housekeeping's sooner pass takes a
    sweep's mail once, not every minute."""
    sign_ups(1, django_capture_on_commit_callbacks)
    later = timezone.now() + timedelta(seconds=settings.MAIL_SWEEP_RESUME_AFTER_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert mails.resume(now=later) == 1
        assert mails.resume(now=later + timedelta(seconds=settings.MAIL_SWEEP_RESUME_AFTER_SECONDS + 1)) == 0


def test_the_queue_runs_tasks_in_the_order_they_come_due(window, django_capture_on_commit_callbacks):
    """Every task is queued with a due time: a sweep queued before a fan-out
    but due after it runs after it (the backend puts a task without a due
    time behind every task with one)."""
    event = EventFactory(capacity=100)
    sign_ups(1, django_capture_on_commit_callbacks, event)
    with django_capture_on_commit_callbacks(execute=True):
        mails.queue_fan_out(event.pk, Mail.Kind.REMINDER)
    fan_out = DBTaskResult.objects.get(task_path="registrations.tasks.fan_out_mails")
    assert fan_out.run_after.year != 9999
    # Both due now, the sweep a moment after the fan-out.
    now = timezone.now()
    DBTaskResult.objects.filter(pk=fan_out.pk).update(run_after=now - timedelta(seconds=2))
    DBTaskResult.objects.filter(task_path=SWEEP).update(run_after=now - timedelta(seconds=1))
    assert [t.task_path for t in DBTaskResult.objects.ready()] == ["registrations.tasks.fan_out_mails", SWEEP]


def test_every_task_the_apps_queue_has_a_due_time(django_capture_on_commit_callbacks, settings):
    from events import webhooks
    from events.services import event_cancel

    settings.WEBHOOK_DISPATCH_ON_COMMIT = True
    settings.EVENT_CANCEL_INLINE_MAX = 0  # the registrations by a task
    webhooks._last_scheduled = 0.0
    organizer = UserFactory(roles=["member", "organizer"])
    event = EventFactory(organizer=organizer, capacity=10)
    sign_ups(1, django_capture_on_commit_callbacks, event)
    with django_capture_on_commit_callbacks(execute=True):
        event_cancel(event=event)
    queued = set(DBTaskResult.objects.values_list("task_path", flat=True))
    assert {
        SWEEP,
        "registrations.tasks.cancel_registrations_of_event",
        "events.tasks.dispatch_webhooks",
    } <= queued
    assert not DBTaskResult.objects.filter(run_after__year=9999).exists()


def test_no_task_is_queued_without_a_due_time():
    """Every call site goes through eventmaster.tasks.enqueue or
    enqueue_on_commit (or retries.enqueue_on_commit, which uses them)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sources = [
        path
        for app in ("eventmaster", "accounts", "events", "registrations", "checkin")
        for path in (root / app).rglob("*.py")
        if "tests" not in path.parts and path != root / "eventmaster" / "tasks.py"
    ]
    assert len(sources) > 50
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in sources
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\.enqueue\(", line) and "tasks.enqueue(" not in line
    ]
    assert offenders == []
