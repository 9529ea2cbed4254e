"""gunicorn settings every deployment shares (gunicorn reads this file from
its working directory; the command line adds bind, workers, timeouts)."""

# Errors gunicorn answers itself (an over-long request line, bad headers)
# come in the API's JSON error shape, not as an HTML page.
worker_class = "eventmaster.gunicorn_worker.JsonErrorSyncWorker"
# The longest request line gunicorn can bound (its default is 4094): URLs up
# to this length reach Django and get its answers; longer ones are a 414.
limit_request_line = 8190


def child_exit(server, worker):
    """With PROMETHEUS_MULTIPROC_DIR set, a dead worker's live gauges go
    (its counters and histograms stay in the sums, as Prometheus expects)."""
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
