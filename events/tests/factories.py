from datetime import timedelta

import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from eventmaster.roles import Role
from events.models import Event


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    title = factory.Sequence(lambda n: f"Meetup #{n}")
    description = "<p>Talks and pizza.</p>"
    location = "Main hall"
    start_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    end_at = factory.LazyAttribute(lambda o: o.start_at + timedelta(hours=2))
    capacity = 10
    status = Event.Status.PUBLISHED
    waitlist_enabled = True
    organizer = factory.SubFactory(UserFactory, roles=[Role.MEMBER, Role.ORGANIZER])
