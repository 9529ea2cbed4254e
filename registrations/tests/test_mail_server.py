"""Attendee mails through real processes: gunicorn serving the API, workers
(``manage.py run_worker``) sending to a real SMTP server (aiosmtpd on a
loopback port, eventmaster/tests/smtp.py) that the test starts, slows,
makes refuse, and stops; workers killed with SIGKILL. On SQLite and
PostgreSQL (one worker at a time: both can run it)."""

import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest
import requests
from django.db.models import F
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from accounts.tests.factories import UserFactory
from eventmaster.tests.server import BASE_DIR, bearer, fire_at_once, gunicorn, server_env
from eventmaster.tests.smtp import SmtpSink, free_port, smtp_sink
from eventmaster.tests.workers import wait_until, worker, worker_env
from events import services as event_services
from events.tests.factories import EventFactory
from registrations.models import Mail
from registrations.services import registration_create
from registrations.tests.bulk import bulk_registrations

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


def register(base_url: str, event, user):
    url, headers = f"{base_url}/api/v1/events/{event.pk}/registrations", bearer(user)
    return lambda: requests.post(url, headers=headers, timeout=30)


def mails(**filters) -> Counter:
    """Mail rows by status."""
    return Counter(Mail.objects.filter(**filters).values_list("status", flat=True))


def test_smtp_down_while_20_people_register_each_gets_one_confirmation_once_it_is_back():
    port = free_port()  # nothing listens there yet
    event = EventFactory(capacity=50)
    users = UserFactory.create_batch(20)
    sink = SmtpSink(port=port)
    env = worker_env(smtp_port=port)
    try:
        with (
            worker(env, wait=False) as w,  # starting while gunicorn starts
            gunicorn(workers=4, env=server_env(RATELIMIT_ENABLE="false", EMAIL_PORT=str(port))) as url,
        ):
            w.wait_until_up()
            started = time.monotonic()
            responses = fire_at_once([register(url, event, user) for user in users])
            took = time.monotonic() - started
            assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses]
            slowest = max(r.elapsed.total_seconds() for r in responses)
            print(  # noqa: T201
                f"20 registrations with the SMTP server down: {took:.2f} s, slowest answer {slowest:.2f} s"
            )
            assert slowest < 5, "a registration waited for the mail server"

            # The worker has tried each and scheduled a retry; nothing is lost.
            def all_tried():
                retrying = Mail.objects.filter(
                    registration__event=event,
                    kind="confirmed",
                    status="pending",
                    attempts__gte=1,
                    next_attempt_at__gte=F("created_at") + timedelta(seconds=1),
                ).exclude(last_error="")
                return retrying.count() == 20

            wait_until(all_tried, timeout=30, what="the worker to try the 20 mails and schedule retries")
            assert all(
                "Connection refused" in e or "ConnectionRefused" in e
                for e in Mail.objects.filter(registration__event=event).values_list("last_error", flat=True)
            )
            assert w.returncode is None

            sink.start()  # the mail server is back, on the same port
            wait_until(
                lambda: mails(registration__event=event) == {"sent": 20},
                timeout=40,
                what="the 20 confirmations to be sent once the server is back",
            )
            time.sleep(1)  # time for a stray duplicate to show
            assert sink.by_recipient() == {u.email: 1 for u in users}
            assert {r.subject for r in sink.received} == {f"Your place is confirmed: {event.title}"}
    finally:
        sink.stop()


def test_a_burst_of_sign_ups_is_mailed_by_a_few_sweeps_each_attendee_once():
    """40 people register at once through 4 gunicorn workers, each queueing
    its mails by half-second windows (MAIL_SEND_WINDOW_SECONDS, the
    production default): each gets one confirmation, sent by a few sweep
    tasks rather than a task each."""
    event = EventFactory(capacity=100)
    users = UserFactory.create_batch(40)
    with (
        smtp_sink() as sink,
        worker(worker_env(smtp_port=sink.port)),
        gunicorn(workers=4, env=server_env(RATELIMIT_ENABLE="false")) as url,
    ):
        responses = fire_at_once([register(url, event, user) for user in users])
        assert [r.status_code for r in responses] == [201] * 40, [r.text for r in responses]
        wait_until(
            lambda: mails(registration__event=event) == {"sent": 40}, timeout=30, what="the 40 confirmations"
        )
        time.sleep(1.5)  # time for a stray duplicate to show
        assert sink.by_recipient() == {user.email: 1 for user in users}
    swept = DBTaskResult.objects.filter(task_path="registrations.tasks.send_sweep")
    print(f"40 confirmations, {swept.count()} sweep tasks")  # noqa: T201
    assert swept.count() < 40  # fewer tasks than mails (4 for 40 here, unloaded)
    assert not DBTaskResult.objects.filter(task_path="registrations.tasks.send_mails").exists()
    assert Mail.objects.filter(registration__event=event, sweep__isnull=True).count() == 0


def test_a_worker_killed_in_the_middle_of_1000_mails():
    """SIGKILL a worker a third of the way through 1,000 event_cancelled
    mails; a new worker requeues the dead one's task and finishes. Every
    attendee has the mail; a duplicate is possible only for a mail in flight
    at the kill (claimed, not recorded as sent), and keeps its Message-ID."""
    event = EventFactory(capacity=1000)
    bulk_registrations(event, 1000, prefix="killed")
    # The sink holds each message 10 ms before its 250, and the test kills
    # as the 333rd arrives: most often while the server holds it, so that
    # mail is in flight (delivered, not recorded sent) and goes twice.
    with smtp_sink(delay=0.01) as sink:
        env = worker_env(
            smtp_port=sink.port,
            TASK_WORKER_DEAD_AFTER=2,
            # The mail claimed by the dead worker waits out its claim
            # (MAIL_CLAIM_SECONDS), then the housekeeping sends it.
            EMAIL_TIMEOUT=1,
            MAIL_CLAIM_SECONDS=5,
            MAIL_RESUME_AFTER_SECONDS=5,
        )
        with worker(env) as first:
            cancelled_at = time.monotonic()
            event_services.event_cancel(event=event)  # one transaction: the fan-out is queued at its commit
            sink.wait_for(lambda s: s.total >= 333, timeout=60, what="a third of the mails")
            assert first.kill() == -9
        killed_at = time.monotonic()
        received_at_kill = sink.total
        sent_at_kill = Mail.objects.filter(status="sent").count()
        # Claimed (its claim is cleared when it is recorded sent, retried or failed), not sent.
        in_flight = Mail.objects.filter(status="pending", claimed_until__isnull=False).count()
        print(  # noqa: T201
            f"\nkill after {killed_at - cancelled_at:.1f} s: {received_at_kill} received by the server, "
            f"{sent_at_kill} recorded sent, "
            f"{in_flight} in flight (claimed, not recorded sent)"
        )
        with worker(env):
            wait_until(lambda: mails() == {"sent": 1000}, timeout=90, what="all 1,000 mails recorded as sent")
            time.sleep(1)  # time for a stray duplicate to show
        counts = sink.by_recipient()
        duplicates = sum(n - 1 for n in counts.values())
        print(  # noqa: T201
            f"after the new worker ({time.monotonic() - killed_at:.1f} s): {sink.total} received, "
            f"{len(counts)} recipients, {duplicates} duplicate(s)"
        )
        assert set(counts) == {f"killed{i}@example.org" for i in range(1000)}
        assert duplicates <= in_flight
        ids = {
            mail.registration.user.email: f"<{mail.pk}@eventmaster.invalid>"
            for mail in Mail.objects.select_related("registration__user")
        }
        for recipient, message_ids in sink.message_ids().items():
            assert set(message_ids) == {ids[recipient]}, (recipient, message_ids)


BUSY = "451 4.3.0 Mailbox busy, try again later"


def refusing(address: str, offered: int) -> str | None:
    """The server's answer to a recipient offered for the ``offered``-th
    time: ``flaky@`` is busy (451) the first 2 times, ``busy@`` always,
    ``gone@`` does not exist (550); anyone else is accepted."""
    if address == "flaky@example.org" and offered <= 2:
        return BUSY
    if address == "busy@example.org":
        return BUSY
    if address == "gone@example.org":
        return "550 5.1.1 No such user"
    return None


def test_refused_mails_are_retried_then_delivered_or_shown_as_failed():
    """One worker, one server, three recipients (one test: one worker's
    start-up): 451 twice, then accepted -> delivered once on the 3rd
    attempt; 451 always -> failed once its retry time is over, listed by
    ``retry_mails --list``; 550 -> failed after one attempt."""
    event = EventFactory()
    with smtp_sink(refuse=refusing) as sink, worker(worker_env(smtp_port=sink.port)):
        flaky = registration_create(event=event, user=UserFactory(email="flaky@example.org"))
        # A mail's give-up time is set when it is queued: 3 s of retries.
        with override_settings(MAIL_RETRY_FOR_SECONDS=3):
            busy = registration_create(event=event, user=UserFactory(email="busy@example.org"))
        gone = registration_create(event=event, user=UserFactory(email="gone@example.org"))
        flaky, busy, gone = (Mail.objects.get(registration=r) for r in (flaky, busy, gone))
        wait_until(
            lambda: mails(registration__event=event) == {"sent": 1, "failed": 2},
            timeout=30,
            what="1 mail sent and 2 failed",
        )
        time.sleep(1.5)  # time for a stray retry or duplicate to show
    for mail in (flaky, busy, gone):
        mail.refresh_from_db()

    assert (flaky.status, flaky.attempts, flaky.last_error) == ("sent", 3, "")
    assert sink.times_offered("flaky@example.org") == 3
    assert sink.by_recipient() == {"flaky@example.org": 1}

    assert busy.status == "failed" and busy.attempts >= 2
    assert sink.times_offered("busy@example.org") == busy.attempts
    assert "451" in busy.last_error and "Mailbox busy" in busy.last_error

    assert (gone.status, gone.attempts) == ("failed", 1) and "550" in gone.last_error
    assert sink.times_offered("gone@example.org") == 1

    listed = subprocess.run(
        [sys.executable, "manage.py", "retry_mails", "--list"],
        cwd=BASE_DIR,
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    print(listed)  # noqa: T201
    (line,) = [line for line in listed.splitlines() if str(busy.pk) in line]
    assert "busy@example.org" in line and "451" in line
    assert "2 failed mail(s)." in listed
