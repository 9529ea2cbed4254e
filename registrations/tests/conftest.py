import pytest

from events.tests.factories import EventFactory


@pytest.fixture
def event(organizer):
    # Two seats: the third registration is waitlisted.
    return EventFactory(organizer=organizer, capacity=2)
