"""Cancelling a big event: its registrations are cancelled by a worker just
after the commit, in one UPDATE under the event's lock (the request answers
at once); until then the event's status refuses every change to them. Small
events (up to EVENT_CANCEL_INLINE_MAX active registrations) are cancelled in
the request's own transaction. PostgreSQL at 66,000: test_cancel_at_scale.py."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.tests.factories import UserFactory
from eventmaster.tests.utils import assert_error, run_tasks
from events.tests.factories import EventFactory
from registrations.models import Mail, Registration
from registrations.selectors import event_counts_drift
from registrations.services import (
    registration_create,
    registrations_cancel_deferred,
    registrations_cancel_resume,
)

pytestmark = pytest.mark.django_db

TASK = "registrations.tasks.cancel_registrations_of_event"


@pytest.fixture
def big_event(organizer, settings):
    """3 confirmed and 1 waitlisted: "big" with EVENT_CANCEL_INLINE_MAX = 3."""
    settings.EVENT_CANCEL_INLINE_MAX = 3
    event = EventFactory(organizer=organizer, capacity=3)
    for _ in range(4):
        registration_create(event=event, user=UserFactory())
    mail.outbox.clear()
    return event


def statuses(event) -> list[tuple[str, str | None]]:
    return sorted(Registration.objects.filter(event=event).values_list("status", "cancel_reason"))


def cancel(client, event, capture) -> None:
    with capture(execute=True):
        answer = client.post(f"/api/v1/events/{event.pk}/cancel")
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled", answer.content


def test_a_big_event_answers_cancelled_and_a_worker_cancels_its_registrations(
    big_event, organizer_client, django_capture_on_commit_callbacks
):
    cancel(organizer_client, big_event, django_capture_on_commit_callbacks)

    # Answered before the registrations were touched: one task queued.
    assert statuses(big_event) == [("confirmed", None)] * 3 + [("waitlisted", None)]
    (task,) = DBTaskResult.objects.filter(task_path=TASK)
    assert task.args_kwargs["args"] == [str(big_event.pk)]
    big_event.refresh_from_db()
    assert (big_event.status, big_event.confirmed_count, big_event.waitlisted_count) == ("cancelled", 3, 1)
    assert event_counts_drift() == []

    run_tasks()  # the cancellation, then its fan-out, then the mails

    assert statuses(big_event) == [("cancelled", "event_cancelled")] * 4
    big_event.refresh_from_db()
    assert (big_event.confirmed_count, big_event.waitlisted_count) == (0, 0)
    assert event_counts_drift() == []
    assert Mail.objects.filter(kind="event_cancelled", status="sent").count() == 4
    assert len(mail.outbox) == 4


def test_until_the_worker_ran_nothing_changes_the_registrations_of_a_cancelled_event(
    big_event, organizer_client, django_capture_on_commit_callbacks, member_client
):
    confirmed = (
        Registration.objects.filter(event=big_event, status="confirmed").select_related("user").first()
    )
    cancel(organizer_client, big_event, django_capture_on_commit_callbacks)

    # Nobody cancels one (it is, with its event): no promotion, no mail.
    assert_error(
        organizer_client.post(f"/api/v1/registrations/{confirmed.pk}/cancel"), 409, "already_cancelled"
    )
    # A capacity raise promotes nobody.
    with django_capture_on_commit_callbacks(execute=True):
        answer = organizer_client.patch(f"/api/v1/events/{big_event.pk}", {"capacity": 10}, format="json")
    assert answer.status_code == 200, answer.content
    assert Registration.objects.filter(event=big_event, status="waitlisted").count() == 1
    # Nobody signs up; the door refuses its tickets.
    assert_error(
        member_client.post(f"/api/v1/events/{big_event.pk}/registrations"), 409, "registration_closed"
    )
    scan = organizer_client.post(
        "/api/v1/checkin",
        {"ticket_code": confirmed.ticket_code, "event_id": str(big_event.pk)},
        format="json",
    )
    assert scan.json()["result"] == "event_cancelled"
    assert Mail.objects.filter(kind__in=["promoted", "cancelled"]).count() == 0

    run_tasks()
    assert statuses(big_event) == [("cancelled", "event_cancelled")] * 4
    assert event_counts_drift() == []


def test_at_the_threshold_the_request_cancels_them_itself(
    big_event, organizer_client, django_capture_on_commit_callbacks, settings
):
    settings.EVENT_CANCEL_INLINE_MAX = 4
    cancel(organizer_client, big_event, django_capture_on_commit_callbacks)
    assert statuses(big_event) == [("cancelled", "event_cancelled")] * 4
    assert not DBTaskResult.objects.filter(task_path=TASK).exists()


def test_the_deferred_cancellation_is_idempotent_and_only_for_cancelled_events(
    big_event, organizer_client, django_capture_on_commit_callbacks
):
    other = EventFactory(organizer=big_event.organizer)
    registration_create(event=other, user=UserFactory())
    assert registrations_cancel_deferred(event_id=other.pk) == 0  # published: untouched
    assert Registration.objects.get(event=other).status == "confirmed"

    cancel(organizer_client, big_event, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert registrations_cancel_deferred(event_id=big_event.pk) == 4
    assert registrations_cancel_deferred(event_id=big_event.pk) == 0  # a duplicate task: nothing
    run_tasks()
    assert Mail.objects.filter(kind="event_cancelled").count() == 4  # one fan-out, one mail each


def test_a_lost_cancellation_task_is_queued_again_by_the_housekeeping(
    big_event, organizer_client, django_capture_on_commit_callbacks, settings
):
    # The process dies between the commit and the queueing: no task.
    with django_capture_on_commit_callbacks(execute=False):
        organizer_client.post(f"/api/v1/events/{big_event.pk}/cancel")
    assert not DBTaskResult.objects.filter(task_path=TASK).exists()

    soon = timezone.now() + timedelta(seconds=settings.MAIL_RESUME_AFTER_SECONDS - 5)
    assert registrations_cancel_resume(now=soon) == 0  # not yet: its task may still be on its way
    later = timezone.now() + timedelta(seconds=settings.MAIL_RESUME_AFTER_SECONDS + 5)
    assert registrations_cancel_resume(now=later) == 1
    assert DBTaskResult.objects.filter(task_path=TASK).count() == 1

    run_tasks()
    assert statuses(big_event) == [("cancelled", "event_cancelled")] * 4
    assert registrations_cancel_resume(now=later) == 0  # done: its counters are 0
