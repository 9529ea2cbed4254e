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
