"""The worker's additions to django-tasks-db (eventmaster.tasks): recovery of
a dead worker's task, the heartbeat, the queue's state, and its admin page.
Real worker processes: registrations/tests/test_mail_server.py."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from eventmaster.models import WorkerHeartbeat
from eventmaster.tasks import Worker, queue_state, requeue_orphaned_tasks
from registrations.tasks import send_mails

pytestmark = pytest.mark.django_db


def running_on(worker_id: str, *, started_ago: timedelta) -> DBTaskResult:
    result = send_mails.enqueue([])
    task = DBTaskResult.objects.get(pk=result.id)
    task.claim(worker_id)
    DBTaskResult.objects.filter(pk=task.pk).update(started_at=timezone.now() - started_ago)
    return task


def beat(worker_id: str, *, ago: timedelta) -> None:
    at = timezone.now() - ago
    WorkerHeartbeat.objects.create(worker_id=worker_id, host="h", pid=1, started_at=at, seen_at=at)


class TestRecovery:
    def test_a_dead_workers_task_goes_back_to_the_queue(self, settings):
        settings.TASK_WORKER_DEAD_AFTER = 60
        beat("dead", ago=timedelta(seconds=90))
        beat("alive", ago=timedelta(seconds=5))
        orphan = running_on("dead", started_ago=timedelta(minutes=5))
        busy = running_on("alive", started_ago=timedelta(minutes=5))
        assert requeue_orphaned_tasks() == 1
        orphan.refresh_from_db()
        busy.refresh_from_db()
        assert (orphan.status, orphan.started_at) == ("READY", None) and busy.status == "RUNNING"
        assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["alive"]
        assert requeue_orphaned_tasks() == 0  # once

    def test_a_task_without_heartbeat_is_requeued_only_once_it_is_old(self, settings):
        settings.TASK_WORKER_DEAD_AFTER = 60
        young = running_on("plain-db-worker", started_ago=timedelta(seconds=10))
        old = running_on("plain-db-worker", started_ago=timedelta(minutes=2))
        assert requeue_orphaned_tasks() == 1
        assert DBTaskResult.objects.get(pk=young.pk).status == "RUNNING"
        assert DBTaskResult.objects.get(pk=old.pk).status == "READY"

    def test_the_worker_beats_and_says_goodbye(self):
        worker = Worker(
            queue_names=["*"], interval=0, batch=True, backend_name="default", startup_delay=False,
            max_tasks=None, worker_id="w1", excluded_queue_names=[],
        )  # fmt: skip
        worker._beat()
        first = WorkerHeartbeat.objects.get(worker_id="w1")
        worker._beat()
        again = WorkerHeartbeat.objects.get(worker_id="w1")
        assert again.started_at == first.started_at and again.seen_at >= first.seen_at
        worker._goodbye()
        assert not WorkerHeartbeat.objects.exists()

    def test_a_worker_that_lost_the_database_requeues_its_own_task(self):
        worker = Worker(
            queue_names=["*"], interval=0, batch=True, backend_name="default", startup_delay=False,
            max_tasks=None, worker_id="w2", excluded_queue_names=[],
        )  # fmt: skip
        mine = running_on("w2", started_ago=timedelta(seconds=1))
        other = running_on("w3", started_ago=timedelta(seconds=1))
        worker._requeue_own()
        assert DBTaskResult.objects.get(pk=mine.pk).status == "READY"
        assert DBTaskResult.objects.get(pk=other.pk).status == "RUNNING"


class TestQueueState:
    def test_counts_and_the_oldest_waiting_age(self, settings):
        now = timezone.now()
        for _ in range(2):
            send_mails.enqueue([])
        send_mails.using(run_after=now + timedelta(hours=1)).enqueue([])  # a retry's backoff
        DBTaskResult.objects.filter(run_after__year=9999).update(enqueued_at=now - timedelta(seconds=40))
        running_on("w", started_ago=timedelta(seconds=1))
        failed = send_mails.enqueue([])
        DBTaskResult.objects.filter(pk=failed.id).update(status="FAILED")
        beat("w", ago=timedelta(seconds=1))
        state = queue_state(now=now)
        # The running one was enqueued as a third due task, then claimed.
        assert (state.waiting, state.scheduled, state.running, state.failed, state.workers) == (2, 1, 1, 1, 1)
        assert timedelta(seconds=39) < state.oldest_waiting_age < timedelta(seconds=42)

    def test_an_empty_queue(self):
        state = queue_state()
        assert state.waiting == 0 and state.oldest_waiting_age is None


class TestQueueAdmin:
    def test_admins_see_the_queue_state_above_the_tasks(self, client, admin_user):
        send_mails.enqueue([])
        client.force_login(admin_user)
        page = client.get("/admin/django_tasks_database/dbtaskresult/")
        assert page.status_code == 200
        html = page.content.decode()
        assert 'id="queue-state"' in html and "Waiting (due now)</th><td>1</td>" in html

    def test_organizers_do_not(self, client, organizer):
        client.force_login(organizer)
        assert client.get("/admin/django_tasks_database/dbtaskresult/").status_code == 403
