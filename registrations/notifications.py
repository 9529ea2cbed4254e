"""The mails attendees get, queued by the services after commit
(eventmaster.mail): confirmed (with the QR code inline and the event as an
.ics attachment), moved from the waitlist, cancelled, event cancelled."""

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventmaster.mail import Mail, send_after_commit
from events.calendar import event_to_ical

from .models import Registration
from .tickets import ticket_qr


def _mail(registration: Registration, *, subject: str, template: str, **extra: Any) -> Mail:
    event = registration.event
    return Mail(
        to=registration.user.email,
        subject=f"{subject}: {event.title}",
        template=f"registrations/email/{template}",
        context={"registration": registration, "event": event, "user": registration.user},
        **extra,
    )


def _ticket_mail(registration: Registration, *, subject: str, template: str) -> Mail:
    return _mail(
        registration,
        subject=subject,
        template=template,
        inline_png=("ticket", ticket_qr(registration.ticket_code, "png")),
        attachments=[("event.ics", event_to_ical(registration.event), "text/calendar")],
    )


def _reloaded(ids: Iterable[UUID]) -> list[Registration]:
    # Read after commit, so the mail shows what was committed.
    return list(
        Registration.objects.filter(pk__in=list(ids)).select_related("event", "user").order_by("created_at")
    )


def notify_confirmed(registration: Registration) -> None:
    send_after_commit(
        lambda: [
            _ticket_mail(r, subject="Your place is confirmed", template="confirmed")
            for r in _reloaded([registration.pk])
        ]
    )


def notify_promoted(registrations: Iterable[Registration]) -> None:
    ids = [r.pk for r in registrations]
    if ids:
        send_after_commit(
            lambda: [
                _ticket_mail(r, subject="You are in: off the waitlist", template="promoted")
                for r in _reloaded(ids)
            ]
        )


def notify_cancelled(registration: Registration) -> None:
    send_after_commit(
        lambda: [
            _mail(r, subject="Registration cancelled", template="cancelled")
            for r in _reloaded([registration.pk])
        ]
    )


def notify_event_cancelled(registration_ids: Iterable[UUID]) -> None:
    ids = list(registration_ids)
    if ids:
        send_after_commit(
            lambda: [_mail(r, subject="Event cancelled", template="event_cancelled") for r in _reloaded(ids)]
        )


def notify_reminder(registration: Registration) -> None:
    send_after_commit(
        lambda: [
            _ticket_mail(r, subject="Reminder", template="reminder") for r in _reloaded([registration.pk])
        ]
    )
