import pytest

from events.tests.factories import EventFactory


@pytest.fixture
def event(organizer):
    return EventFactory(organizer=organizer, capacity=3)


@pytest.fixture
def scan(organizer_client, event):
    def post(ticket_code: str, *, event_id=None, client=None, path="/api/v1/checkin", **extra):
        body = {"ticket_code": ticket_code, "event_id": str(event_id or event.pk), **extra}
        return (client or organizer_client).post(path, body)

    return post
