"""Production metrics for Prometheus (``prometheus-client``).

- ``eventmaster_request_seconds``: latency histogram per route (the URL
  pattern, not the path: bounded cardinality), method and status class;
- ``eventmaster_request_db_queries``: SQL statements per request, per route;
- the background queue at scrape time (``eventmaster_tasks_*``: waiting,
  scheduled, running, failed, the oldest waiting task's age, live
  workers), and whatever the apps register with ``register_collector``
  (the registrations app: attendee mails by status).

Served at ``GET /metrics`` to a scraper that sends ``Authorization: Bearer
<METRICS_TOKEN>``; without METRICS_TOKEN the endpoint does not exist (404).
Under gunicorn's several worker processes set PROMETHEUS_MULTIPROC_DIR to
an empty directory (gunicorn.conf.py clears a dead worker's files): each
process writes its samples there and a scrape adds them up.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REQUEST_SECONDS = Histogram(
    "eventmaster_request_seconds",
    "Time to answer a request, by route, method and status class.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
REQUEST_QUERIES = Histogram(
    "eventmaster_request_db_queries",
    "SQL statements run by a request, by route.",
    ["route"],
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55),
)

_COLLECTORS: list[Callable[[], Iterable[GaugeMetricFamily]]] = []


def register_collector(collect: Callable[[], Iterable[GaugeMetricFamily]]) -> None:
    """Add gauges computed at scrape time (apps call it from ``ready``)."""
    if collect not in _COLLECTORS:
        _COLLECTORS.append(collect)


def _queue_metrics() -> Iterator[GaugeMetricFamily]:
    from .tasks import queue_state

    state = queue_state()
    tasks = GaugeMetricFamily("eventmaster_tasks", "Background tasks by state.", labels=["state"])
    for name in ("waiting", "scheduled", "running", "failed"):
        tasks.add_metric([name], getattr(state, name))
    yield tasks
    age = state.oldest_waiting_age.total_seconds() if state.oldest_waiting_age is not None else 0.0
    yield GaugeMetricFamily(
        "eventmaster_tasks_oldest_waiting_seconds", "How long the oldest task due now has waited.", value=age
    )
    yield GaugeMetricFamily(
        "eventmaster_task_workers", "Task workers with a fresh heartbeat.", value=state.workers
    )


register_collector(_queue_metrics)


class _ScrapeTime(Collector):
    """The gauges read from the database at scrape time. A database that is
    down or slow costs them, not the scrape: the request metrics are still
    served, with ``eventmaster_database_up 0``."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = 1
        for collect in _COLLECTORS:
            try:
                families = list(collect())
            except DatabaseError:
                up = 0
                break
            yield from families
        yield GaugeMetricFamily(
            "eventmaster_database_up", "Whether the scrape could read the database (queue, mails).", value=up
        )


class MetricsMiddleware:
    """Times every request and counts its SQL statements."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        queries = [0]

        def count(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            queries[0] += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(count):
            response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None and match.route else "unmatched"
        REQUEST_SECONDS.labels(route, request.method or "", f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started
        )
        REQUEST_QUERIES.labels(route).observe(queries[0])
        return response


def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("No metrics here.")
    sent = request.headers.get("Authorization", "")
    if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return HttpResponse("A bearer token is needed.\n", status=401, content_type="text/plain")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    output = generate_latest(registry)
    scrape_time = CollectorRegistry()
    scrape_time.register(_ScrapeTime())
    output += generate_latest(scrape_time)
    return HttpResponse(output, content_type=CONTENT_TYPE_LATEST)
