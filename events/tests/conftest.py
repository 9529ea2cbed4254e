import pytest

from accounts.tests.factories import UserFactory
from eventmaster.roles import Role
from eventmaster.tests.utils import client_for
from events.models import Event
from events.tests.factories import EventFactory


@pytest.fixture
def event(organizer):
    return EventFactory(organizer=organizer)


@pytest.fixture
def draft(organizer):
    return EventFactory(organizer=organizer, status=Event.Status.DRAFT)


@pytest.fixture
def other_organizer_client():
    return client_for(UserFactory(roles=[Role.MEMBER, Role.ORGANIZER]))


@pytest.fixture
def staff_client(checkin_user, event, draft):
    """Door staff assigned to both the published event and the draft."""
    event.staff.add(checkin_user)
    draft.staff.add(checkin_user)
    return client_for(checkin_user)
