"""A change that committed is answered as done even when queueing its
follow-up work right after the commit fails (the task queue's database
gone for a moment): the housekeeping queues it again later."""

import pytest
from django.db import OperationalError
from django_tasks_db.backend import DatabaseBackend

from accounts.tests.factories import UserFactory
from eventmaster.tests.utils import client_for
from events.tests.factories import EventFactory
from registrations.models import Mail, Registration

pytestmark = pytest.mark.django_db(transaction=True)  # real commits, real on-commit hooks


def test_a_sign_up_whose_mail_task_cannot_be_queued_is_still_201(monkeypatch):
    def down(self, *args, **kwargs):
        raise OperationalError("the task queue's database is gone")

    monkeypatch.setattr(DatabaseBackend, "enqueue", down)
    member = UserFactory()
    event = EventFactory(capacity=10)
    response = client_for(member).post(f"/api/v1/events/{event.pk}/registrations")
    assert response.status_code == 201, response.content
    registration = Registration.objects.get(event=event, user=member)
    assert Mail.objects.get(registration=registration).status == Mail.Status.PENDING  # for the housekeeping


def test_a_scan_whose_webhook_dispatch_cannot_be_queued_is_still_answered(monkeypatch, settings):
    from events import webhooks
    from registrations.services import registration_create

    settings.WEBHOOK_DISPATCH_ON_COMMIT = True
    organizer = UserFactory(roles=["member", "organizer"])
    event = EventFactory(organizer=organizer, capacity=10)
    registration = registration_create(event=event, user=UserFactory())

    def down(self, *args, **kwargs):
        raise OperationalError("the task queue's database is gone")

    monkeypatch.setattr(DatabaseBackend, "enqueue", down)
    monkeypatch.setattr(webhooks, "_last_scheduled", 0.0)  # the sign-up's dispatch was just queued
    response = client_for(organizer).post(
        "/api/v1/checkin", {"ticket_code": registration.ticket_code, "event_id": str(event.pk)}
    )
    assert response.status_code == 200 and response.json()["result"] == "ok", response.content
    registration.refresh_from_db()
    assert registration.checked_in_at is not None
