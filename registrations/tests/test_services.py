"""The registration rules, at the service level (the API, admin and commands
all call these)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from events import services as event_services
from events.errors import CapacityBelowRegistrationsError
from events.models import Event
from events.tests.factories import EventFactory
from registrations.errors import (
    AlreadyCancelledError,
    AlreadyCheckedInError,
    AlreadyRegisteredError,
    EventFullError,
    RegistrationClosedError,
)
from registrations.models import Registration
from registrations.selectors import registration_list_for_event
from registrations.services import registration_cancel, registration_create

pytestmark = pytest.mark.django_db

CONFIRMED, WAITLISTED, CANCELLED = (
    Registration.Status.CONFIRMED,
    Registration.Status.WAITLISTED,
    Registration.Status.CANCELLED,
)


def fill(event, count: int) -> list[Registration]:
    return [registration_create(event=event, user=UserFactory()) for _ in range(count)]


def statuses(event) -> dict[str, int]:
    return {s: event.registrations.filter(status=s).count() for s in (CONFIRMED, WAITLISTED, CANCELLED)}


def positions(event) -> list[int]:
    rows = registration_list_for_event(event=event).filter(status=WAITLISTED)
    return [r.waitlist_position_raw for r in rows]


class TestCreate:
    def test_confirmed_then_waitlisted_when_full(self):
        event = EventFactory(capacity=2)
        regs = fill(event, 4)
        assert [r.status for r in regs] == [CONFIRMED, CONFIRMED, WAITLISTED, WAITLISTED]
        assert positions(event) == [1, 2]

    def test_full_without_waitlist_is_event_full(self):
        event = EventFactory(capacity=1, waitlist_enabled=False)
        fill(event, 1)
        with pytest.raises(EventFullError):
            registration_create(event=event, user=UserFactory())
        assert statuses(event)[CONFIRMED] == 1

    def test_second_active_registration_is_already_registered(self, member):
        event = EventFactory(capacity=1)
        registration_create(event=event, user=member)
        with pytest.raises(AlreadyRegisteredError):
            registration_create(event=event, user=member)
        fill(event, 1)  # now full: a waitlisted registration counts as active too
        other = UserFactory()
        registration_create(event=event, user=other)
        with pytest.raises(AlreadyRegisteredError):
            registration_create(event=event, user=other)

    def test_may_register_again_after_cancelling(self, member):
        event = EventFactory()
        first = registration_create(event=event, user=member)
        registration_cancel(registration=first, by=member)
        assert registration_create(event=event, user=member).status == CONFIRMED

    @pytest.mark.parametrize(
        "event_kwargs",
        [
            {"status": Event.Status.DRAFT},
            {"status": Event.Status.CANCELLED},
            {"start_at": timezone.now() - timedelta(minutes=1)},
        ],
        ids=["draft", "cancelled", "started"],
    )
    def test_closed_events(self, member, event_kwargs):
        event = EventFactory(**event_kwargs)
        with pytest.raises(RegistrationClosedError):
            registration_create(event=event, user=member)

    def test_ticket_codes_are_unique_urlsafe_and_long(self):
        event = EventFactory(capacity=50)
        codes = [r.ticket_code for r in fill(event, 50)]
        assert len(set(codes)) == 50
        for code in codes:
            assert len(code) >= 22  # >= 128 bits in base64url
            assert not code.startswith("-")  # a command line would take it for an option
            assert set(code) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class TestCancel:
    def test_cancel_promotes_oldest_waitlisted_in_the_same_transaction(self):
        event = EventFactory(capacity=2)
        first, _, third, fourth = fill(event, 4)
        cancelled = registration_cancel(registration=first, by=first.user)
        assert cancelled.status == CANCELLED
        assert cancelled.cancel_reason == Registration.CancelReason.ATTENDEE_CANCELLED
        assert cancelled.cancelled_at is not None
        third.refresh_from_db()
        fourth.refresh_from_db()
        assert (third.status, fourth.status) == (CONFIRMED, WAITLISTED)
        assert positions(event) == [1]

    def test_cancelling_a_waitlisted_one_moves_the_others_up(self):
        event = EventFactory(capacity=1)
        _, second, third, fourth = fill(event, 4)
        assert positions(event) == [1, 2, 3]
        registration_cancel(registration=second, by=second.user)
        assert statuses(event) == {CONFIRMED: 1, WAITLISTED: 2, CANCELLED: 1}
        assert positions(event) == [1, 2]
        assert [r.pk for r in registration_list_for_event(event=event).filter(status=WAITLISTED)] == [
            third.pk,
            fourth.pk,
        ]

    def test_cancel_by_organizer_records_the_reason(self):
        event = EventFactory()
        (registration,) = fill(event, 1)
        cancelled = registration_cancel(registration=registration, by=event.organizer)
        assert cancelled.cancel_reason == Registration.CancelReason.ORGANIZER_CANCELLED

    def test_twice_is_already_cancelled(self):
        (registration,) = fill(EventFactory(), 1)
        registration_cancel(registration=registration, by=registration.user)
        with pytest.raises(AlreadyCancelledError):
            registration_cancel(registration=registration, by=registration.user)

    def test_checked_in_cannot_be_cancelled(self):
        (registration,) = fill(EventFactory(), 1)
        Registration.objects.filter(pk=registration.pk).update(checked_in_at=timezone.now())
        with pytest.raises(AlreadyCheckedInError):
            registration_cancel(registration=registration, by=registration.user)
        registration.refresh_from_db()
        assert registration.status == CONFIRMED


class TestCapacity:
    def test_lowering_below_confirmed_is_refused(self):
        event = EventFactory(capacity=5)
        fill(event, 3)
        with pytest.raises(CapacityBelowRegistrationsError):
            event_services.event_update(event=event, capacity=2)
        event.refresh_from_db()
        assert event.capacity == 5
        assert event_services.event_update(event=event, capacity=3).capacity == 3

    def test_raising_promotes_oldest_first(self):
        event = EventFactory(capacity=1)
        regs = fill(event, 5)
        event_services.event_update(event=event, capacity=3)
        assert [Registration.objects.get(pk=r.pk).status for r in regs] == [
            CONFIRMED,
            CONFIRMED,
            CONFIRMED,
            WAITLISTED,
            WAITLISTED,
        ]
        assert positions(event) == [1, 2]

    def test_event_cancel_cascades_to_active_registrations(self):
        event = EventFactory(capacity=1)
        first, second = fill(event, 2)
        registration_cancel(registration=first, by=first.user)
        event_services.event_cancel(event=event)
        first.refresh_from_db()
        second.refresh_from_db()
        assert first.cancel_reason == Registration.CancelReason.ATTENDEE_CANCELLED  # untouched
        assert (second.status, second.cancel_reason) == (CANCELLED, Registration.CancelReason.EVENT_CANCELLED)
        assert statuses(event) == {CONFIRMED: 0, WAITLISTED: 0, CANCELLED: 2}


def test_ticket_codes_never_start_with_a_dash():
    # 1 in 64 base64url codes would; 5,000 draws miss that with p < 1e-34.
    from registrations.models import new_ticket_code

    assert not any(new_ticket_code().startswith("-") for _ in range(5000))
