"""Background work's plumbing: the worker, its housekeeping, the queue's state.

Tasks are Django's task API (the ``django-tasks`` backport of Django 6.0's
``django.tasks``) on its database backend (``django-tasks-db``): the queue
is a table of the project's database, so it needs no other server, and on
PostgreSQL any number of workers on any number of machines share it (each
claims a task with ``SELECT ... FOR UPDATE SKIP LOCKED``).

``manage.py run_worker`` is django-tasks-db's worker with three additions:

- a **heartbeat** (``WorkerHeartbeat``), written by a thread every
  ``TASK_HEARTBEAT_SECONDS`` while the worker lives, deleted when it stops
  gracefully (SIGTERM or SIGINT: it finishes its task first);
- **recovery**: a task left RUNNING by a worker whose heartbeat is older
  than ``TASK_WORKER_DEAD_AFTER`` seconds (killed, its machine gone) goes
  back to the queue, so another worker runs it again. Tasks are written to
  be run again (the mail tasks skip what was sent);
- **housekeeping**: the functions the apps register with ``housekeeping``
  run at start and every ``TASK_HOUSEKEEPING_SECONDS``, between tasks or,
  when the worker is idle, in the heartbeat's thread (the registrations
  app re-queues mails whose task was lost);

and it survives a database outage: it logs, waits and goes on.

The apps queue their tasks with ``enqueue`` and ``enqueue_on_commit``,
which give every task a due time (``run_after``, now when not later): the
backend orders the queue by it, and would put a task without one behind
every task with one, so a deferred sweep or retry would jump ahead of all
the work queued before it. Dated, the queue runs in the order work comes
due.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker as DBWorker
from django_tasks_db.models import DBTaskResult

from .models import WorkerHeartbeat

logger = logging.getLogger(__name__)

_HOUSEKEEPING: list[Callable[[], object]] = []


def enqueue(task: Any, *args: Any, run_after: datetime | None = None) -> Any:
    """Queue ``task(*args)``, due at ``run_after`` or now (see the module's
    docstring); returns its result handle."""
    return task.using(run_after=run_after or timezone.now()).enqueue(*args)


def enqueue_on_commit(task: Any, *args: Any, run_after: datetime | None = None) -> None:
    """Queue ``task(*args)`` when the current transaction commits, due at
    ``run_after`` or at the commit. A failure to queue (the database gone
    just after the commit) is logged, not raised: the change is committed
    and its answer stands, and the housekeeping queues the work again."""
    transaction.on_commit(lambda: enqueue(task, *args, run_after=run_after), robust=True)


def housekeeping(func: Callable[[], object]) -> Callable[[], object]:
    """Register ``func`` to run in every worker at start and periodically
    (apps call it from ``AppConfig.ready``). It must be safe to run in many
    workers at once."""
    if func not in _HOUSEKEEPING:
        _HOUSEKEEPING.append(func)
    return func


def run_housekeeping() -> None:
    for func in _HOUSEKEEPING:
        try:
            func()
        except DatabaseError:
            raise
        except Exception:
            logger.exception("housekeeping failed", extra={"function": func.__qualname__})


def requeue_orphaned_tasks(*, now: datetime | None = None) -> int:
    """Put back in the queue the tasks RUNNING on workers that are gone: their
    heartbeat is older than TASK_WORKER_DEAD_AFTER, or they have none and
    the task started longer ago than that. Returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.TASK_WORKER_DEAD_AFTER)
    alive = set(WorkerHeartbeat.objects.filter(seen_at__gte=cutoff).values_list("worker_id", flat=True))
    requeued = 0
    # Few rows: at most one running task per worker.
    for task in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff).only(
        "id", "worker_ids"
    ):
        if task.worker_ids and task.worker_ids[-1] in alive:
            continue
        requeued += _requeue(task.pk)
    WorkerHeartbeat.objects.filter(seen_at__lt=cutoff).delete()
    if requeued:
        logger.warning("requeued tasks of dead workers", extra={"tasks": requeued})
    return requeued


def _requeue(task_id: Any) -> int:
    # Only if still RUNNING: two workers recovering at once requeue it once.
    return DBTaskResult.objects.filter(pk=task_id, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.READY, started_at=None
    )


@dataclass(frozen=True)
class QueueState:
    waiting: int  # ready to run now
    scheduled: int  # waiting for their run_after (a retry's backoff, a mail window's sweep)
    running: int
    failed: int
    oldest_waiting_age: timedelta | None  # how long the oldest ready task has waited
    workers: int  # live heartbeats


def queue_state(*, now: datetime | None = None) -> QueueState:
    """The queue as operations see it (``task_queue``, the admin)."""
    now = now or timezone.now()
    tasks = DBTaskResult.objects.order_by()
    ready = tasks.filter(status=TaskResultStatus.READY)
    due = ready.ready()
    oldest = due.order_by("enqueued_at").values_list("enqueued_at", "run_after").first()
    age = None
    if oldest is not None:
        enqueued_at, run_after = oldest
        # A deferred task waits from its run_after, not from its enqueueing.
        since = enqueued_at if run_after.year == 9999 else max(enqueued_at, run_after)
        age = max(now - since, timedelta(0))
    cutoff = now - timedelta(seconds=settings.TASK_WORKER_DEAD_AFTER)
    waiting = due.count()
    return QueueState(
        waiting=waiting,
        scheduled=ready.count() - waiting,
        running=tasks.filter(status=TaskResultStatus.RUNNING).count(),
        failed=tasks.filter(status=TaskResultStatus.FAILED).count(),
        oldest_waiting_age=age,
        workers=WorkerHeartbeat.objects.filter(seen_at__gte=cutoff).count(),
    )


class Worker(DBWorker):
    """django-tasks-db's worker, with a heartbeat, recovery, housekeeping,
    and patience with the database (see the module's docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._stop = threading.Event()
        self._last_housekeeping = 0.0

    def serve(self) -> None:
        """Run until stopped: the worker's loop, restarted after a database
        error (the worker logs it and waits; its own running task goes back
        to the queue)."""
        self._beat()
        beat = threading.Thread(target=self._beat_forever, name="heartbeat", daemon=True)
        beat.start()
        delay = 1.0
        try:
            while self.running:
                try:
                    self.housekeep(force=True)
                    self.run()
                    return
                except DatabaseError:
                    logger.exception("the worker lost the database; retrying", extra={"delay": delay})
                    close_old_connections()
                    time.sleep(delay)
                    delay = min(delay * 2, 30.0)
                    self._requeue_own()
        finally:
            self._stop.set()
            beat.join(timeout=5)
            self._goodbye()

    def run_task(self, db_task_result: DBTaskResult[Any, Any]) -> None:
        super().run_task(db_task_result)
        self.housekeep()

    def housekeep(self, *, force: bool = False) -> None:
        if not force and time.monotonic() - self._last_housekeeping < settings.TASK_HOUSEKEEPING_SECONDS:
            return
        self._last_housekeeping = time.monotonic()
        requeue_orphaned_tasks()
        run_housekeeping()

    def _requeue_own(self) -> None:
        try:
            for task in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).only("id", "worker_ids"):
                if task.worker_ids and task.worker_ids[-1] == self.worker_id:
                    _requeue(task.pk)
        except DatabaseError:
            pass  # still down: the next round, or another worker's recovery

    def _beat(self) -> None:
        now = timezone.now()
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={"seen_at": now},
            create_defaults={
                "seen_at": now,
                "started_at": now,
                "host": socket.gethostname()[:255],
                "pid": os.getpid(),
            },
        )

    def _beat_forever(self) -> None:
        # Its own database connection (this thread's), closed on the way out.
        try:
            while not self._stop.wait(settings.TASK_HEARTBEAT_SECONDS):
                try:
                    with transaction.atomic():
                        self._beat()
                except DatabaseError:
                    logger.warning("heartbeat failed", exc_info=True)
                    close_old_connections()
                    continue
                if not self.running_task:
                    self._housekeep_idle()
        finally:
            connection.close()

    def _housekeep_idle(self) -> None:
        # The loop housekeeps after each task: an idle worker runs none, so
        # this thread does it for it (else a dead worker's task, or a mail
        # whose claim expired, waits for the next task to be queued).
        try:
            self.housekeep()
        except DatabaseError:
            logger.warning("housekeeping failed", exc_info=True)
            close_old_connections()
        except Exception:
            logger.exception("housekeeping failed")

    def _goodbye(self) -> None:
        try:
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
        except DatabaseError:
            logger.warning("could not remove the heartbeat", exc_info=True)
