"""Two scanners, one ticket, the same instant; a phone retrying after a
network drop: against a multi-process gunicorn, parallel clients."""

import uuid
from collections import Counter

import pytest
import requests

from checkin.models import Scan
from eventmaster.tests.server import bearer, fire_at_once
from events.models import Event
from events.tests.factories import EventFactory
from registrations.models import Registration
from registrations.selectors import event_counts_drift
from registrations.services import registration_create

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


def scanner(base_url: str, user, body: dict):
    headers = bearer(user)
    return lambda: requests.post(f"{base_url}/api/v1/checkin", json=body, headers=headers, timeout=60)


@pytest.fixture
def ticket(organizer, member):
    return registration_create(event=EventFactory(organizer=organizer), user=member)


def test_20_parallel_scans_of_one_ticket_let_it_in_once(gunicorn_server, ticket, organizer):
    body = {"ticket_code": ticket.ticket_code, "event_id": str(ticket.event_id)}
    responses = fire_at_once([scanner(gunicorn_server, organizer, body) for _ in range(20)])
    assert {r.status_code for r in responses} == {200}
    assert Counter(r.json()["result"] for r in responses) == {"ok": 1, "already_checked_in": 19}
    checked_in_at = Registration.objects.get(pk=ticket.pk).checked_in_at
    assert {r.json()["checked_in_at"] for r in responses} == {
        checked_in_at.isoformat().replace("+00:00", "Z")
    }
    assert Counter(Scan.objects.values_list("result", flat=True)) == {"ok": 1, "already_checked_in": 19}
    assert event_counts_drift(events=Event.objects.filter(pk=ticket.event_id)) == []


def test_20_parallel_retries_of_one_nonce_are_one_scan(gunicorn_server, ticket, organizer):
    body = {"ticket_code": ticket.ticket_code, "event_id": str(ticket.event_id), "nonce": str(uuid.uuid4())}
    responses = fire_at_once([scanner(gunicorn_server, organizer, body) for _ in range(20)])
    assert {r.status_code for r in responses} == {200}
    assert [r.json()["result"] for r in responses] == ["ok"] * 20
    assert len({r.json()["checked_in_at"] for r in responses}) == 1
    assert Scan.objects.count() == 1 and Scan.objects.get().result == "ok"
    assert Registration.objects.get(pk=ticket.pk).checked_in_by == organizer
    assert event_counts_drift(events=Event.objects.filter(pk=ticket.event_id)) == []
