import pytest

from eventmaster.tests.utils import client_for
from events.tests.factories import EventFactory
from registrations.services import registration_create


@pytest.fixture
def event(organizer):
    return EventFactory(organizer=organizer, capacity=3)


@pytest.fixture
def registration(event, member):
    return registration_create(event=event, user=member)


@pytest.fixture
def staff_client(checkin_user, event):
    event.staff.add(checkin_user)
    return client_for(checkin_user)


@pytest.fixture
def scan(organizer_client, event):
    def post(ticket_code: str, *, event_id=None, client=None, path="/api/v1/checkin", **extra):
        body = {"ticket_code": ticket_code, "event_id": str(event_id or event.pk), **extra}
        return (client or organizer_client).post(path, body)

    return post
