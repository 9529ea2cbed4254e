"""The events app's domain events run in the change's transaction: a
receiver's writes commit with it, and a receiver that fails aborts it."""

import pytest

from events import services, signals
from events.models import Event
from registrations.models import Registration

pytestmark = pytest.mark.django_db


class Refused(Exception):
    pass


def refuse(**kwargs):
    raise Refused


@pytest.fixture
def refusing_receiver():
    signals.event_cancelled.connect(refuse, dispatch_uid="test.refuse")
    signals.event_capacity_raised.connect(refuse, dispatch_uid="test.refuse")
    yield
    signals.event_cancelled.disconnect(dispatch_uid="test.refuse")
    signals.event_capacity_raised.disconnect(dispatch_uid="test.refuse")


def test_cancel_sends_event_cancelled_and_the_registrations_app_reacts(event, registration):
    received = []
    signals.event_cancelled.connect(lambda **kw: received.append(kw), dispatch_uid="test.spy", weak=False)
    try:
        services.event_cancel(event=event)
    finally:
        signals.event_cancelled.disconnect(dispatch_uid="test.spy")
    assert received and received[0]["event"].pk == event.pk
    assert received[0]["event"].status == Event.Status.CANCELLED  # saved before it is sent
    registration.refresh_from_db()
    assert (registration.status, registration.cancel_reason) == ("cancelled", "event_cancelled")


def test_a_failing_receiver_aborts_the_cancellation(event, registration, refusing_receiver):
    with pytest.raises(Refused):
        services.event_cancel(event=event)
    event.refresh_from_db()
    registration.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED
    assert registration.status == Registration.Status.CONFIRMED


def test_a_failing_receiver_aborts_the_capacity_raise(event, refusing_receiver):
    capacity = event.capacity
    with pytest.raises(Refused):
        services.event_update(event=event, capacity=capacity + 5)
    event.refresh_from_db()
    assert event.capacity == capacity


def test_a_capacity_raise_sends_the_old_capacity(event):
    received = []
    signals.event_capacity_raised.connect(
        lambda **kw: received.append(kw), dispatch_uid="test.spy", weak=False
    )
    original = event.capacity
    try:
        services.event_update(event=event, capacity=original + 2)
        services.event_update(event=event, capacity=original + 2)  # unchanged: nothing sent
        services.event_update(event=event, capacity=original)  # lowered: nothing sent
    finally:
        signals.event_capacity_raised.disconnect(dispatch_uid="test.spy")
    assert [kw["old_capacity"] for kw in received] == [original]
