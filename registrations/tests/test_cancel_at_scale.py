"""Cancelling an event of a big conference: more active registrations than
PostgreSQL's 65,535 query parameters (the old code filtered on a Python list
of every id and answered 500)."""

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from events.tests.factories import EventFactory
from registrations import mails
from registrations.models import Mail, MailFanOut, Registration
from registrations.services import event_counts_refresh, registrations_cancel_deferred

ATTENDEES = 66_000

pytestmark = [
    # Committed, not rolled back: a rolled-back test first checks every
    # deferred foreign key it wrote (132,000 lookups, past the suite's
    # statement timeout).
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL: its 65,535 parameter limit"),
]


def test_an_event_with_66000_registrations_cancels_in_one_request(
    organizer, organizer_client, django_capture_on_commit_callbacks, settings
):
    settings.MAIL_BATCH_SIZE = 1000
    event = EventFactory(organizer=organizer, capacity=ATTENDEES)
    now = timezone.now()
    users = User.objects.bulk_create(
        [User(email=f"a{i}@example.org", full_name=f"A {i}", date_joined=now) for i in range(ATTENDEES)],
        batch_size=5000,
    )
    Registration.objects.bulk_create(
        [Registration(event=event, user=user, status="confirmed") for user in users], batch_size=5000
    )
    event_counts_refresh(events=type(event).objects.filter(pk=event.pk))

    with django_capture_on_commit_callbacks(execute=True):
        answer = organizer_client.post(f"/api/v1/events/{event.pk}/cancel")
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    # The request left the registrations to a worker (more than
    # EVENT_CANCEL_INLINE_MAX): one task, which cancels them in one UPDATE.
    cancel_task = DBTaskResult.objects.get(task_path="registrations.tasks.cancel_registrations_of_event")
    assert cancel_task.args_kwargs["args"] == [str(event.pk)]
    assert Registration.objects.filter(event=event, status="confirmed").count() == ATTENDEES
    with django_capture_on_commit_callbacks(execute=True):
        assert registrations_cancel_deferred(event_id=event.pk) == ATTENDEES
    assert Registration.objects.filter(
        event=event, status="cancelled", cancel_reason="event_cancelled"
    ).count() == (ATTENDEES)
    event.refresh_from_db()
    assert (event.confirmed_count, event.waitlisted_count) == (0, 0)

    # The cancellation queued one fan-out; a worker writes one mail per attendee
    # and queues them in batches (not sent here: 66,000 renderings).
    (fan_out,) = MailFanOut.objects.filter(event=event)
    fan_out_task = DBTaskResult.objects.get(task_path="registrations.tasks.fan_out_mails")
    assert fan_out_task.args_kwargs["args"] == [fan_out.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert mails.fan_out(fan_out.pk) == ATTENDEES
    assert Mail.objects.filter(kind="event_cancelled", status="pending").count() == ATTENDEES
    assert Mail.objects.filter(kind="event_cancelled").values("registration").distinct().count() == ATTENDEES
    batches = DBTaskResult.objects.filter(task_path="registrations.tasks.send_mails")
    queued = [pk for batch in batches for pk in batch.args_kwargs["args"][0]]
    assert len(queued) == len(set(queued)) == ATTENDEES  # one send per attendee
    assert batches.count() == ATTENDEES // 1000
