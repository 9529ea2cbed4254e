"""GET /metrics (eventmaster.metrics): for the scraper with its token only;
latency and SQL statements per route, the queue and the mails at scrape
time."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registrations.tasks import send_mails

pytestmark = pytest.mark.django_db

TOKEN = "scrape-me-0123456789"


@pytest.fixture
def scraper(client, settings):
    settings.METRICS_TOKEN = TOKEN
    return lambda: client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})


def sample(text: str, name: str, **labels: str) -> float:
    """The value of the sample ``name`` with exactly these labels (in any
    order) in the exposition text."""
    for line in text.splitlines():
        found = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if not found or found.group(1) != name:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', found.group(2) or ""))
        if have == labels:
            return float(found.group(3))
    near = [line for line in text.splitlines() if line.startswith(name)][:8]
    raise AssertionError(f"{name} {labels} not in the metrics: {near}")


def test_no_token_configured_no_endpoint(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_a_wrong_or_missing_token_is_401(client, settings, header):
    settings.METRICS_TOKEN = TOKEN
    headers = {"Authorization": header} if header else {}
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 401 and TOKEN not in answer.content.decode()


def test_latency_and_queries_per_route(scraper, api_client, event):
    route = "api/v1/events/<anyuuid:pk>"
    before = scraper().content.decode()
    count_before = (
        sample(before, "eventmaster_request_seconds_count", route=route, method="GET", status="2xx")
        if route in before
        else 0
    )
    with CaptureQueriesContext(connection) as queries:
        assert api_client.get(f"/api/v1/events/{event.pk}").status_code == 200
    detail_queries = len(queries)
    api_client.get("/api/v1/nowhere")
    text = scraper().content.decode()
    assert sample(text, "eventmaster_request_seconds_count", route=route, method="GET", status="2xx") == (
        count_before + 1
    )
    assert sample(text, "eventmaster_request_db_queries_sum", route=route) >= detail_queries >= 1
    assert sample(text, "eventmaster_request_seconds_count", route="^api/", method="GET", status="4xx") >= 1
    assert 'route="api/v1/events/' in text and str(event.pk) not in text  # the pattern, never the path


def test_the_queue_and_the_mails_at_scrape_time(scraper, member_client, event):
    send_mails.enqueue([])
    member_client.post(f"/api/v1/events/{event.pk}/registrations")  # a mail row, pending
    text = scraper().content.decode()
    assert sample(text, "eventmaster_tasks", state="waiting") >= 1
    assert sample(text, "eventmaster_tasks", state="failed") == 0
    assert sample(text, "eventmaster_task_workers") == 0
    assert sample(text, "eventmaster_tasks_oldest_waiting_seconds") >= 0
    assert sample(text, "eventmaster_mails", status="pending") == 1
    assert sample(text, "eventmaster_mails", status="failed") == 0


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_several_gunicorn_workers_add_up(tmp_path):
    """With PROMETHEUS_MULTIPROC_DIR, a scrape (served by any one worker)
    counts the requests every worker answered."""
    import requests

    from eventmaster.tests.server import fire_at_once, gunicorn, server_env

    env = server_env(METRICS_TOKEN=TOKEN, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    labels = {"route": "healthz", "method": "GET", "status": "2xx"}
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with gunicorn(workers=3, env=env) as base_url, requests.Session() as http:
        before = http.get(f"{base_url}/metrics", headers=auth, timeout=10).text
        try:
            start = sample(before, "eventmaster_request_seconds_count", **labels)
        except AssertionError:  # no /healthz answered yet
            start = 0
        sent = 0
        # Parallel bursts until at least two workers have answered some.
        while sent == 0 or (len(list(tmp_path.glob("histogram_*.db"))) < 2 and sent < 300):
            burst = [lambda: requests.get(f"{base_url}/healthz", timeout=10).status_code for _ in range(15)]
            assert fire_at_once(burst) == [200] * 15
            sent += 15
        text = http.get(f"{base_url}/metrics", headers=auth, timeout=10).text
    assert len(list(tmp_path.glob("histogram_*.db"))) >= 2  # more than one process wrote samples
    assert sample(text, "eventmaster_request_seconds_count", **labels) == start + sent


def test_a_database_that_is_gone_costs_the_gauges_not_the_scrape(scraper, api_client, monkeypatch):
    from django.db import OperationalError

    import eventmaster.tasks

    api_client.get("/api/v1/events")
    assert sample(scraper().content.decode(), "eventmaster_database_up") == 1

    def gone(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(eventmaster.tasks, "queue_state", gone)
    answer = scraper()
    text = answer.content.decode()
    assert answer.status_code == 200 and sample(text, "eventmaster_database_up") == 0
    assert "eventmaster_request_seconds_count" in text and "eventmaster_tasks{" not in text
