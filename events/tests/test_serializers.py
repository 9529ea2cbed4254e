"""EventSerializer renders by hand (the public list and detail): it must give
exactly what DRF's field-by-field rendering of its declared fields gives,
which is also what the schema documents."""

import pytest
from rest_framework import serializers

from accounts.tests.factories import UserFactory
from events.models import Event
from events.selectors import event_list_visible
from events.serializers import EventSerializer
from events.tests.factories import EventFactory
from registrations.services import registration_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "shape",
    [
        {},
        {"capacity": 1, "waitlist_enabled": True},  # full, one waiting
        {"status": Event.Status.DRAFT, "description": "", "location": ""},
        {"status": Event.Status.CANCELLED, "title": "Tom & <Jerry>"},
    ],
)
def test_the_hand_rendering_is_drfs(shape, admin_user):
    event = EventFactory(**shape)
    if event.status == Event.Status.PUBLISHED:
        for _ in range(2):
            registration_create(event=event, user=UserFactory())
    event = event_list_visible(user=admin_user).get(pk=event.pk)
    by_hand = EventSerializer(event).data
    by_drf = serializers.Serializer.to_representation(EventSerializer(), event)
    assert dict(by_hand) == dict(by_drf)
    assert list(by_hand) == list(EventSerializer().fields)  # same keys, same order


def test_a_page_renders_each_event_by_hand(admin_user):
    events = event_list_visible(user=admin_user).filter(pk__in=[EventFactory().pk for _ in range(3)])
    page = EventSerializer(events, many=True).data
    assert page == [serializers.Serializer.to_representation(EventSerializer(), event) for event in events]
