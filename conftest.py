"""Fixtures for every app: a client per role and a clean cache."""

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from eventmaster.roles import Role
from eventmaster.tests.utils import client_for


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After every test that used the database and passed: no event's counter
    columns differ from its registrations (test data written around the
    services must recount: registrations.tests.factories). A test that makes
    drift on purpose is marked ``count_drift``."""
    result = yield
    if "_django_db_helper" in getattr(item, "fixturenames", ()) and not item.get_closest_marker(
        "count_drift"
    ):
        from registrations.selectors import event_counts_drift

        drift = event_counts_drift()
        assert not drift, f"event counters drifted from the registrations: {drift}"
    return result


@pytest.fixture(autouse=True)
def _clean_cache():
    # Rate-limit counters and cached public pages must not leak from one
    # test into the next.
    for alias in ("default", "public"):
        caches[alias].clear()
    yield
    for alias in ("default", "public"):
        caches[alias].clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def member(db):
    return UserFactory(roles=[Role.MEMBER])


@pytest.fixture
def organizer(db):
    return UserFactory(roles=[Role.MEMBER, Role.ORGANIZER])


@pytest.fixture
def checkin_user(db):
    return UserFactory(roles=[Role.MEMBER, Role.CHECKIN])


@pytest.fixture
def admin_user(db):
    return UserFactory(roles=[Role.MEMBER, Role.ADMIN])


@pytest.fixture
def member_client(member) -> APIClient:
    return client_for(member)


@pytest.fixture
def organizer_client(organizer) -> APIClient:
    return client_for(organizer)


@pytest.fixture
def checkin_client(checkin_user) -> APIClient:
    return client_for(checkin_user)


@pytest.fixture
def admin_client(admin_user) -> APIClient:
    return client_for(admin_user)


@pytest.fixture(scope="module")
def gunicorn_server(django_db_setup, django_db_blocker):
    """8 gunicorn worker processes on the test database, rate limits off,
    for one test module (tests using it are transactional)."""
    from eventmaster.tests.server import gunicorn, server_env

    with django_db_blocker.unblock(), gunicorn(workers=8, env=server_env(RATELIMIT_ENABLE="false")) as url:
        yield url


@pytest.fixture
def event(organizer):
    """The organizer's published event (app conftests override its capacity)."""
    from events.tests.factories import EventFactory

    return EventFactory(organizer=organizer)


@pytest.fixture
def registration(event, member):
    """The member's registration for ``event``, through the service."""
    from registrations.services import registration_create

    return registration_create(event=event, user=member)


@pytest.fixture
def staff_client(checkin_user, event) -> APIClient:
    """Door staff assigned to ``event``."""
    event.staff.add(checkin_user)
    return client_for(checkin_user)
