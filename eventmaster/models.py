from django.db import models


class WorkerHeartbeat(models.Model):
    """A task worker that is alive: ``run_worker`` writes its row at start
    and every few seconds, and deletes it when it stops gracefully. A row
    left behind by a worker that was killed goes stale: another worker then
    puts that worker's running task back in the queue (eventmaster.tasks)."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} on {self.host} (pid {self.pid})"


class DomainEvent(models.Model):
    """The outbox: one row per domain event (``event.published``,
    ``registration.created``, ...: eventmaster.audit.TYPES), written by the
    services in the transaction of the change, so a rolled-back change has
    none and a committed one is never missed by what reads them in order
    (the webhooks). Rows are never changed."""

    id = models.BigAutoField(primary_key=True)
    type = models.CharField(max_length=32)
    occurred_at = models.DateTimeField()
    # The EventMaster event it concerns (none for role and user changes).
    # Plain values, not foreign keys: the plumbing imports no app, and the
    # record outlives what it describes (event.deleted).
    event_id = models.UUIDField(null=True, blank=True)
    object_type = models.CharField(max_length=16)
    object_id = models.CharField(max_length=64)
    # What the object was, as far as it cannot be read later: the changed
    # fields of an update, the last state of a deleted object.
    data = models.JSONField(default=dict, blank=True)
    # When the webhooks' dispatcher turned it into deliveries (events.webhooks):
    # the only column ever written after the INSERT.
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["id"],
                condition=models.Q(dispatched_at__isnull=True),
                name="domain_event_undispatched_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.object_type} {self.object_id}"


class AuditEntry(models.Model):
    """One administrative action, in a hash chain: ``hash`` covers the
    entry's content and ``prev_hash`` (the hash of entry ``seq - 1``), so
    changing, inserting or removing an entry breaks the chain
    (``manage.py audit_verify``). Append-only: a database trigger refuses
    UPDATE and DELETE (migration 0002). Appends are serialized
    (eventmaster.audit), so the chain never forks."""

    seq = models.PositiveBigIntegerField(primary_key=True)
    at = models.DateTimeField()
    action = models.CharField(max_length=32)
    # Who: not a foreign key either (an entry outlives its user, and a
    # deleted user's entries must not change).
    actor_id = models.UUIDField(null=True, blank=True)
    actor = models.CharField(max_length=254)
    actor_role = models.CharField(max_length=16, blank=True)
    via = models.CharField(max_length=8)
    object_type = models.CharField(max_length=16)
    object_id = models.CharField(max_length=64)
    event_id = models.UUIDField(null=True, blank=True)
    # {"field": [before, after]}, values as JSON.
    changes = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["event_id", "seq"], name="audit_entry_event_idx")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type} {self.object_id} by {self.actor}"
