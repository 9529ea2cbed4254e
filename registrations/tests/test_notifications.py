"""Attendee mails: who gets which and what they contain. They are queued
with the change (a Mail row, a task on commit) and sent by the workers
(run_tasks here); the mail server's failures: test_mail_delivery.py."""

import icalendar
import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from accounts.tests.factories import UserFactory
from eventmaster.tests.utils import run_tasks
from events import services as event_services
from events.tests.factories import EventFactory
from registrations import signing
from registrations.models import Mail
from registrations.services import registration_cancel, registration_create
from registrations.tickets import ticket_qr

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the code, then the on-commit callbacks as a real commit would,
    then the tasks they queued, as a worker would."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            result = fn(*args, **kwargs)
        run_tasks()
        return result

    return run


def parts(message) -> dict:
    """content type -> payload of every leaf part of a sent message."""
    found = {}
    for part in message.message().walk():
        if not part.is_multipart():
            found.setdefault(part.get_content_type(), []).append(part)
    return found


def test_confirmed_mail_has_the_qr_inline_and_the_event_attached(committed, member):
    event = EventFactory(title="Tom & Jerry Live", capacity=1)
    registration = committed(registration_create, event=event, user=member)
    (sent,) = mail.outbox
    assert sent.to == [member.email]
    assert sent.subject == "Your place is confirmed: Tom & Jerry Live"
    found = parts(sent)
    text = found["text/plain"][0].get_payload(decode=True).decode()
    assert "Tom & Jerry Live" in text and "&amp;" not in text  # plain text is not HTML-escaped
    assert registration.ticket_code in text
    html = found["text/html"][0].get_payload(decode=True).decode()
    assert 'src="cid:ticket"' in html and "Tom &amp; Jerry Live" in html
    (image,) = found["image/png"]
    assert image["Content-ID"] == "<ticket>"
    assert image.get_payload(decode=True) == ticket_qr(signing.sign(registration), "png")
    (ics,) = found["text/calendar"]
    (vevent,) = icalendar.Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")
    assert str(vevent["UID"]) == f"{event.pk}@eventmaster" and vevent["SUMMARY"] == "Tom & Jerry Live"


def test_a_waitlisted_registration_gets_no_ticket_mail(committed):
    event = EventFactory(capacity=1)
    committed(registration_create, event=event, user=UserFactory())
    mail.outbox.clear()
    committed(registration_create, event=event, user=UserFactory())
    assert mail.outbox == []


def test_cancel_tells_the_attendee_and_the_promoted_one(committed):
    event = EventFactory(capacity=1)
    first = committed(registration_create, event=event, user=UserFactory())
    waiting = committed(registration_create, event=event, user=UserFactory())
    mail.outbox.clear()
    committed(registration_cancel, registration=first, by=event.organizer)
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert set(by_recipient) == {first.user.email, waiting.user.email}
    cancelled = by_recipient[first.user.email]
    assert cancelled.subject.startswith("Registration cancelled") and "by the organizer" in cancelled.body
    promoted = by_recipient[waiting.user.email]
    assert promoted.subject.startswith("You are in: off the waitlist")
    assert parts(promoted)["image/png"][0].get_payload(decode=True) == ticket_qr(signing.sign(waiting), "png")


def test_raising_capacity_tells_the_promoted(committed):
    event = EventFactory(capacity=1)
    committed(registration_create, event=event, user=UserFactory())
    waiting = [committed(registration_create, event=event, user=UserFactory()) for _ in range(2)]
    mail.outbox.clear()
    committed(event_services.event_update, event=event, capacity=2)
    assert [m.to[0] for m in mail.outbox] == [waiting[0].user.email]


def test_event_cancel_tells_every_active_attendee_once(committed):
    event = EventFactory(capacity=2)
    regs = [
        committed(registration_create, event=event, user=UserFactory()) for _ in range(3)
    ]  # 2 + 1 waiting
    gone = committed(registration_create, event=EventFactory(), user=regs[0].user)
    committed(registration_cancel, registration=regs[1], by=regs[1].user)  # cancelled before: no event mail
    mail.outbox.clear()
    committed(event_services.event_cancel, event=event)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([regs[0].user.email, regs[2].user.email])
    assert {m.subject for m in mail.outbox} == {f"Event cancelled: {event.title}"}
    gone.refresh_from_db()
    assert gone.status == "confirmed"  # the same person's registration for another event stays


def test_a_rolled_back_registration_sends_nothing(django_capture_on_commit_callbacks, member):
    event = EventFactory()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        registration_create(event=event, user=member)
        raise RuntimeError("something later in the request failed")
    assert callbacks == [] and run_tasks() == 0 and mail.outbox == []
    assert not event.registrations.exists() and not Mail.objects.exists()


def test_the_mail_is_queued_in_the_transaction_and_sent_by_a_worker(
    django_capture_on_commit_callbacks, member
):
    event = EventFactory()
    with django_capture_on_commit_callbacks(execute=True):
        registration = registration_create(event=event, user=member)
        # Written with the registration, before any mail server is asked.
        (queued,) = Mail.objects.all()
        assert (queued.registration_id, queued.kind, queued.status) == (
            registration.pk,
            "confirmed",
            "pending",
        )
    assert mail.outbox == []  # the request sends nothing
    assert run_tasks() == 1
    (sent,) = mail.outbox
    queued.refresh_from_db()
    assert queued.status == "sent" and queued.sent_at is not None and queued.attempts == 1
    assert sent.extra_headers["Message-ID"] == f"<{queued.pk}@eventmaster.invalid>"


def test_a_mail_queued_twice_is_sent_once(committed, member):
    from registrations.tasks import send_mails

    registration = committed(registration_create, event=EventFactory(), user=member)
    mail.outbox.clear()
    queued = Mail.objects.get(registration=registration)
    Mail.objects.filter(pk=queued.pk).update(status="pending")  # as if the first send was never recorded
    mail.outbox.clear()
    send_mails.enqueue([str(queued.pk)])
    send_mails.enqueue([str(queued.pk)])
    run_tasks()
    assert len(mail.outbox) == 1  # the second finds it sent
    assert Mail.objects.get(pk=queued.pk).attempts == 2


def test_an_event_cancel_is_one_update_and_its_mails_go_in_batches(
    committed, django_capture_on_commit_callbacks, settings
):
    settings.MAIL_BATCH_SIZE = 4
    event = EventFactory(capacity=10)
    regs = [committed(registration_create, event=event, user=UserFactory()) for _ in range(10)]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as queries:
        event_services.event_cancel(event=event)
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "registrations_registration"')]
    assert len(updates) == 1  # whatever their number
    assert not Mail.objects.filter(kind="event_cancelled").exists()  # the workers write them
    run_tasks()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.user.email for r in regs)
    batches = DBTaskResult.objects.filter(task_path="registrations.tasks.send_mails", status="SUCCESSFUL")
    assert sorted(len(b.args_kwargs["args"][0]) for b in batches if b.return_value.get("sent", 0) > 0)[
        -3:
    ] == [
        2,
        4,
        4,
    ]
