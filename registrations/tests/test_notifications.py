"""Attendee mails: who gets which, what they contain, and that they are
sent only after commit and never break a registration."""

import logging
import socket

import icalendar
import pytest
from django.core import mail
from django.db import transaction

from accounts.tests.factories import UserFactory
from events import services as event_services
from events.tests.factories import EventFactory
from registrations.services import registration_cancel, registration_create
from registrations.tickets import ticket_qr

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the code, then the on-commit callbacks, as a real commit would."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

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
    assert image.get_payload(decode=True) == ticket_qr(registration.ticket_code, "png")
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
    assert parts(promoted)["image/png"][0].get_payload(decode=True) == ticket_qr(waiting.ticket_code, "png")


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
    assert callbacks == [] and mail.outbox == []
    assert not event.registrations.exists()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once closed


def test_a_broken_mail_server_never_fails_a_registration(
    member_client, settings, django_capture_on_commit_callbacks, caplog
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    event = EventFactory()
    with (
        caplog.at_level(logging.ERROR, logger="eventmaster.mail"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = member_client.post(f"/api/v1/events/{event.pk}/registrations")
    assert response.status_code == 201 and response.json()["status"] == "confirmed"
    assert event.registrations.filter(status="confirmed").count() == 1
    assert any("sending attendee mail failed" in r.getMessage() for r in caplog.records)
