import factory

from accounts.tests.factories import UserFactory
from events.models import Event
from events.tests.factories import EventFactory
from registrations.models import Registration
from registrations.services import event_counts_refresh


def counts_refreshed(event: Event) -> None:
    """After registrations written around the services: the event's counter
    columns recounted, and ``event`` (the caller's instance) reloaded."""
    event_counts_refresh(events=Event.objects.filter(pk=event.pk))
    event.refresh_from_db(fields=["confirmed_count", "waitlisted_count"])


class RegistrationFactory(factory.django.DjangoModelFactory):
    """A registration written directly (no capacity rule): for setting up
    states; tests of the rules go through registrations.services. The
    event's counters are recounted after each, so they never drift."""

    class Meta:
        model = Registration

    event = factory.SubFactory(EventFactory)
    user = factory.SubFactory(UserFactory)
    status = Registration.Status.CONFIRMED

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        registration = super()._create(model_class, *args, **kwargs)
        counts_refreshed(registration.event)
        return registration
