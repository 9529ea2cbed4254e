"""Capacity and FIFO under real concurrency: parallel HTTP clients against a
multi-process gunicorn on the test database (PostgreSQL and SQLite).

The control test starts servers with the event-row lock switched off and
shows that the same race then overbooks (PostgreSQL), so these tests can fail.
"""

from collections import Counter

import pytest
import requests
from django.db import connection

from accounts.tests.factories import UserFactory
from eventmaster.tests.server import bearer, fire_at_once, gunicorn, server_env
from events.models import Event
from events.tests.factories import EventFactory
from registrations.models import Registration
from registrations.selectors import event_counts_drift
from registrations.services import registration_create

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

WORKERS = 8


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with (
        django_db_blocker.unblock(),
        gunicorn(workers=WORKERS, env=server_env(RATELIMIT_ENABLE="false")) as url,
    ):
        yield url


def register(base_url: str, event, user):
    url, headers = f"{base_url}/api/v1/events/{event.pk}/registrations", bearer(user)
    return lambda: requests.post(url, headers=headers, timeout=60)


def confirmed(event) -> int:
    return Registration.objects.filter(event=event, status="confirmed").count()


def assert_no_count_drift(*events) -> None:
    """The counter columns of the events raced on equal a recount of their
    registrations (what ``recount_events`` checks)."""
    assert event_counts_drift(events=Event.objects.filter(pk__in=[e.pk for e in events])) == []


def race_for_last_seats(base_url: str, *, clients: int, seats: int, waitlist: bool, taken: int = 0):
    """``clients`` users register at the same instant for the last ``seats``
    seats of an event; returns (event, status codes, error codes)."""
    event = EventFactory(capacity=taken + seats, waitlist_enabled=waitlist)
    for _ in range(taken):
        registration_create(event=event, user=UserFactory())
    users = UserFactory.create_batch(clients)
    responses = fire_at_once([register(base_url, event, user) for user in users])
    statuses = Counter(r.status_code for r in responses)
    codes = Counter(r.json()["errors"][0]["code"] for r in responses if r.status_code >= 400)
    return event, statuses, codes, responses


@pytest.mark.parametrize("waitlist", [True, False], ids=["waitlist", "no-waitlist"])
def test_50_users_racing_for_the_last_10_seats(server, waitlist):
    raced = []
    for _ in range(3):
        event, statuses, codes, responses = race_for_last_seats(
            server, clients=50, seats=10, waitlist=waitlist, taken=10
        )
        assert not any(r.status_code >= 500 for r in responses), [
            r.text for r in responses if r.status_code >= 500
        ]
        raced.append(event)
        assert confirmed(event) == event.capacity == 20
        if waitlist:
            assert statuses == {201: 50}
            assert Counter(r.json()["status"] for r in responses) == {"confirmed": 10, "waitlisted": 40}
        else:
            assert statuses == {201: 10, 409: 40} and codes == {"event_full": 40}
    assert_no_count_drift(*raced)


def test_one_user_sending_10_parallel_registrations_gets_exactly_one(server):
    event, user = EventFactory(capacity=5), UserFactory()
    responses = fire_at_once([register(server, event, user) for _ in range(10)])
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 9}
    assert {r.json()["errors"][0]["code"] for r in responses if r.status_code == 409} == {
        "already_registered"
    }
    assert Registration.objects.filter(event=event, user=user).count() == 1
    assert_no_count_drift(event)


def test_3_parallel_cancellations_promote_3_waitlisted_in_fifo_order(server):
    event = EventFactory(capacity=3)
    attendees = [registration_create(event=event, user=UserFactory()) for _ in range(3)]
    waiting = [registration_create(event=event, user=UserFactory()) for _ in range(5)]
    assert {r.status for r in waiting} == {"waitlisted"}

    def cancel(registration):
        url = f"{server}/api/v1/registrations/{registration.pk}/cancel"
        headers = bearer(registration.user)
        return lambda: requests.post(url, headers=headers, timeout=60)

    responses = fire_at_once([cancel(r) for r in attendees])
    assert [r.status_code for r in responses] == [200, 200, 200]
    status_of = {r.pk: r.status for r in Registration.objects.filter(event=event)}
    assert [status_of[r.pk] for r in waiting] == ["confirmed"] * 3 + ["waitlisted"] * 2
    assert confirmed(event) == 3
    assert_no_count_drift(event)


def test_control_without_the_lock_the_same_race_overbooks():
    """pretix-style control: with the event row unlocked (a setting that
    exists only in the test settings), 12 clients racing for 2 seats overbook
    on PostgreSQL, so the tests above would catch a missing lock."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "SQLite serializes writers (IMMEDIATE transactions): it cannot overbook even without the lock"
        )
    env = server_env(
        RATELIMIT_ENABLE="false",
        DJANGO_SETTINGS_MODULE="eventmaster.settings_test",
        UNSAFE_DISABLE_CAPACITY_LOCK="true",
    )
    overbooked, raced = [], []
    with gunicorn(workers=WORKERS, env=env) as unlocked:
        # About half the rounds overbook here; stop at the first that does.
        while len(overbooked) < 16 and not any(overbooked):
            event, *_ = race_for_last_seats(unlocked, clients=12, seats=2, waitlist=False)
            raced.append(event)
            overbooked.append(confirmed(event) - event.capacity)
    assert max(overbooked) > 0, f"no round overbooked without the lock: {overbooked}"
    # The counters move by relative UPDATEs, so they count even the overbooking.
    assert_no_count_drift(*raced)
