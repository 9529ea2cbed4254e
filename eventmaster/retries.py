"""What every piece of outgoing work that must not be lost does alike (the
attendee mails, the webhooks' deliveries): its rows are the truth, a task
only says "look at these now".

- a row is **claimed** by a worker for a while before it is sent
  (``unclaimed``): a second worker, or a duplicate task, skips it, and a
  worker that dies leaves a claim that simply runs out;
- its task is queued **when the transaction that wrote it commits**
  (``enqueue_on_commit``), never before (a mail window's sweep may be
  queued by an earlier commit, but is due after the window);
- a failure waits longer each time (``backoff``);
- the housekeeping queues again what is overdue (``requeue_overdue``): a
  task lost between a commit and its queueing, a worker killed mid-send.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Model, Q, QuerySet


def backoff(attempts: int, *, first: float, cap: float) -> timedelta:
    """The wait after the ``attempts``-th failure: ``first``, doubling, at
    most ``cap`` seconds."""
    return timedelta(seconds=min(cap, first * 2 ** max(attempts - 1, 0)))


def unclaimed(now: datetime) -> Q:
    """Rows no worker holds now (never claimed, or the claim ran out)."""
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


def enqueue_on_commit(task: Any, ids: Iterable[Any], *, run_after: datetime | None = None) -> None:
    """Queue ``task(ids)`` (ids as text) when the current transaction
    commits, not before ``run_after``; nothing for no ids. A failure to
    queue (the database gone just after the commit) is logged, not raised:
    the change is committed and its answer stands, and the rows wait for
    the housekeeping to queue them again (``requeue_overdue``)."""
    from .tasks import enqueue_on_commit as queue_on_commit

    batch = [str(pk) for pk in ids]
    if batch:
        queue_on_commit(task, batch, run_after=run_after)


def requeue_overdue(
    pending: QuerySet[Any],
    *,
    task: Any,
    now: datetime,
    cutoff: datetime,
    limit: int,
    also: dict[str, Any] | None = None,
) -> list[Any]:
    """Housekeeping: up to ``limit`` of the ``pending`` rows due before
    ``cutoff`` and unclaimed, due now again (and updated with ``also``) and
    their ``task`` queued. Rows another worker is requeueing are skipped
    (SKIP LOCKED), so many workers share the work. Returns their ids."""
    model: type[Model] = pending.model
    with transaction.atomic():
        stale = pending.filter(unclaimed(now), next_attempt_at__lt=cutoff)
        ids = list(stale.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])
        if ids:
            model._default_manager.filter(pk__in=ids).update(next_attempt_at=now, **(also or {}))
            enqueue_on_commit(task, ids)
    return ids
