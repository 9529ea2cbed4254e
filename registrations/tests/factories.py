import factory

from accounts.tests.factories import UserFactory
from events.tests.factories import EventFactory
from registrations.models import Registration


class RegistrationFactory(factory.django.DjangoModelFactory):
    """A registration written directly (no capacity rule): for setting up
    states; tests of the rules go through registrations.services."""

    class Meta:
        model = Registration

    event = factory.SubFactory(EventFactory)
    user = factory.SubFactory(UserFactory)
    status = Registration.Status.CONFIRMED
