"""``manage.py run_worker`` as a real process stopped with SIGTERM: it
finishes the task at hand, removes its heartbeat and exits 0; idle, it
exits at once. (A worker killed with SIGKILL: registrations/tests/test_mail_server.py.)"""

import signal
import time
from collections import Counter

import pytest

from eventmaster.tests.smtp import smtp_sink
from eventmaster.tests.workers import WorkerProcess, wait_until, worker, worker_env
from events import services as event_services
from events.tests.factories import EventFactory
from registrations.models import Mail
from registrations.tests.bulk import bulk_registrations

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


def test_sigterm_in_the_middle_of_a_task_lets_it_finish():
    event = EventFactory(capacity=8)
    bulk_registrations(event, 8, prefix="graceful")
    # 0.25 s per message: the batch of 8 takes about 2 s.
    with smtp_sink(delay=0.25) as sink, worker(worker_env(smtp_port=sink.port)) as w:
        event_services.event_cancel(event=event)  # a fan-out, then one send_mails task of 8
        sink.wait_for(lambda s: s.total >= 1, timeout=30, what="the batch's first mail")
        w.signal(signal.SIGTERM)
        received_at_signal = sink.total
        assert w.process.wait(timeout=30) == 0, w.log()
        assert received_at_signal < 8, "the batch was over before the signal: no test"
        assert Counter(Mail.objects.values_list("status", flat=True)) == {"sent": 8}
        assert sink.by_recipient() == {f"graceful{i}@example.org": 1 for i in range(8)}
        assert not w.heartbeat_exists()
        assert "shutting down gracefully" in w.log()


def test_an_idle_worker_exits_at_once_on_sigterm():
    with smtp_sink() as sink, worker(worker_env(smtp_port=sink.port)) as w:
        time.sleep(0.5)  # idle: polling, heartbeats, housekeeping
        started = time.monotonic()
        w.signal(signal.SIGTERM)
        assert w.process.wait(timeout=10) == 0, w.log()
        took = time.monotonic() - started
        assert took < 3, f"an idle worker took {took:.1f} s to stop"
        assert not w.heartbeat_exists()


def test_a_worker_started_after_another_was_killed_requeues_its_task_when_idle():
    """The new worker finds the dead one's heartbeat still fresh at start and
    has nothing else to run: it must requeue the task later, while idle
    (its housekeeping then runs in the heartbeat's thread)."""
    event = EventFactory(capacity=5)
    bulk_registrations(event, 5, prefix="orphan")
    with smtp_sink(delay=0.5) as sink:
        env = worker_env(smtp_port=sink.port, TASK_WORKER_DEAD_AFTER=2)
        first = WorkerProcess(env)
        try:
            first.wait_until_up()
            event_services.event_cancel(event=event)
            sink.wait_for(lambda s: s.total >= 1, timeout=30, what="the first mail")
            first.kill()
        finally:
            first.stop()
        with worker(env) as second:
            # The 4 mails the dead worker had not claimed go; the one in
            # flight waits out its claim (3 x 2 + 30 s): not awaited here.
            wait_until(
                lambda: Mail.objects.filter(status="sent").count() >= 4,
                timeout=30,
                what="the dead worker's task to be requeued and run",
            )
        assert "requeued tasks of dead workers" in second.log()
        assert len(sink.by_recipient()) == 5
