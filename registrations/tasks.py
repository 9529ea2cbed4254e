"""The registrations app's background tasks (run by ``manage.py run_worker``).
Thin: the work is in registrations.mails."""

from uuid import UUID

from django_tasks import task

from . import mails, services


@task()
def send_mails(mail_ids: list[str]) -> dict[str, int]:
    """Send a batch of attendee mails over one SMTP connection."""
    return mails.send(mail_ids)


@task()
def send_sweep(key: str) -> dict[str, int]:
    """Send the attendee mails one process queued in one short window."""
    return mails.send_sweep(key)


@task()
def fan_out_mails(fan_out_id: int) -> int:
    """Write and queue the mails to many attendees of one event."""
    return mails.fan_out(fan_out_id)


@task()
def cancel_registrations_of_event(event_id: str) -> int:
    """Cancel the registrations of a big cancelled event, in one UPDATE."""
    return services.registrations_cancel_deferred(event_id=UUID(event_id))
