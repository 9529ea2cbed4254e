"""RegistrationSerializer renders by hand (the door scan's hot path and
attendee pages): it must give exactly what DRF's field-by-field rendering of
its declared fields gives, which is also what the schema documents."""

from types import SimpleNamespace

import pytest
from django.utils import timezone
from rest_framework import serializers

from accounts.tests.factories import UserFactory
from eventmaster.roles import Role
from registrations.models import Registration
from registrations.selectors import registration_with_details
from registrations.serializers import RegistrationSerializer
from registrations.services import registration_cancel, registration_create

pytestmark = pytest.mark.django_db


def both_renderings(registration: Registration, viewer) -> tuple[dict, dict]:
    context = {"request": SimpleNamespace(user=viewer)}
    by_hand = RegistrationSerializer(registration, context=context).data
    by_drf = serializers.Serializer.to_representation(RegistrationSerializer(context=context), registration)
    return dict(by_hand), dict(by_drf)


@pytest.fixture
def registrations(event, member, organizer):
    confirmed = registration_create(event=event, user=member)
    cancelled = registration_cancel(
        registration=registration_create(event=event, user=UserFactory()), by=organizer
    )
    registration_create(event=event, user=UserFactory())  # the second seat
    waitlisted = registration_create(event=event, user=UserFactory())
    confirmed.checked_in_at, confirmed.checked_in_by = timezone.now(), organizer
    confirmed.save()
    return [confirmed, waitlisted, cancelled]


def test_every_state_and_viewer_renders_as_drf_does(registrations, event, member, organizer, checkin_user):
    event.staff.add(checkin_user)
    stranger = UserFactory(roles=[Role.MEMBER])
    rows = list(registration_with_details(Registration.objects.filter(event=event)))
    assert {r.status for r in rows} == {"confirmed", "waitlisted", "cancelled"}
    for registration in [*rows, *registrations]:  # annotated, and as services return them
        for viewer in (member, organizer, checkin_user, stranger):
            by_hand, by_drf = both_renderings(registration, viewer)
            assert by_hand == by_drf, (registration.status, viewer)
            assert list(by_hand) == list(RegistrationSerializer().fields)  # same keys, same order


def test_the_rendering_shows_what_a_client_reads(registrations, member, organizer):
    confirmed, waitlisted, cancelled = registrations
    data, _ = both_renderings(confirmed, organizer)
    assert data["status"] == "confirmed" and data["ticket_code"] == confirmed.ticket_code
    assert data["checked_in_at"].endswith("Z") and data["event"]["start_at"].endswith("Z")
    assert both_renderings(waitlisted, member)[0]["waitlist_position"] == 1
    assert both_renderings(cancelled, member)[0]["cancel_reason"] == "organizer_cancelled"
    assert both_renderings(confirmed, UserFactory())[0]["ticket_code"] is None
