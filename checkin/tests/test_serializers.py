"""ScanResultSerializer renders by hand (the door scan's hot path): it must
give exactly what DRF's rendering of its declared fields gives."""

from types import SimpleNamespace

import pytest
from rest_framework import serializers

from accounts.tests.factories import UserFactory
from checkin import services
from checkin.serializers import ScanResultSerializer
from events.models import Event
from events.tests.factories import EventFactory
from registrations.services import registration_cancel, registration_create

pytestmark = pytest.mark.django_db


def test_every_result_renders_as_drf_does(event, organizer, member, checkin_user):
    event.staff.add(checkin_user)
    ok = registration_create(event=event, user=member)
    cancelled = registration_cancel(
        registration=registration_create(event=event, user=UserFactory()), by=organizer
    )
    for _ in range(2):
        registration_create(event=event, user=UserFactory())
    waitlisted = registration_create(event=event, user=UserFactory())
    other = registration_create(event=EventFactory(organizer=organizer), user=UserFactory())
    scan = lambda code, by=organizer: services.checkin_scan(ticket_code=code, event=event, by=by)  # noqa: E731
    outcomes = [
        scan(ok.ticket_code),
        scan(ok.ticket_code, checkin_user),
        services.checkin_undo(ticket_code=ok.ticket_code, event=event, by=organizer),
        services.checkin_undo(ticket_code=ok.ticket_code, event=event, by=organizer),
        scan(cancelled.ticket_code),
        scan(waitlisted.ticket_code),
        scan(other.ticket_code),
        scan("no-such-code"),
    ]
    Event.objects.filter(pk=event.pk).update(status=Event.Status.CANCELLED)
    event.refresh_from_db()
    outcomes.append(scan(ok.ticket_code))
    assert [o.result for o in outcomes] == [
        "ok", "already_checked_in", "undone", "not_checked_in", "cancelled", "not_confirmed", "wrong_event",
        "invalid", "event_cancelled",
    ]  # fmt: skip
    for outcome in outcomes:
        for viewer in (organizer, checkin_user):
            context = {"request": SimpleNamespace(user=viewer)}
            by_hand = ScanResultSerializer(outcome, context=context).data
            by_drf = serializers.Serializer.to_representation(ScanResultSerializer(context=context), outcome)
            assert dict(by_hand) == dict(by_drf), outcome.result
            assert list(by_hand) == list(ScanResultSerializer().fields)
