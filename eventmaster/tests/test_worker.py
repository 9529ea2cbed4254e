"""``manage.py run_worker`` as a real process."""

import pytest

from eventmaster.tests.smtp import smtp_sink
from eventmaster.tests.workers import WorkerProcess, wait_until, worker, worker_env
from events import services as event_services
from events.tests.factories import EventFactory
from registrations.models import Mail
from registrations.tests.bulk import bulk_registrations

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


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
