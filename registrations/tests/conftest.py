import pytest

from eventmaster.tests.utils import client_for
from events.tests.factories import EventFactory
from registrations.services import registration_create


@pytest.fixture
def event(organizer):
    return EventFactory(organizer=organizer, capacity=2)


@pytest.fixture
def registration(event, member):
    return registration_create(event=event, user=member)


@pytest.fixture
def staff_client(checkin_user, event):
    event.staff.add(checkin_user)
    return client_for(checkin_user)
