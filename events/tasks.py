"""The events app's background tasks: webhooks (events.webhooks)."""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from eventmaster import retries
from eventmaster.tasks import enqueue

from . import webhooks

logger = logging.getLogger(__name__)


@task()
def dispatch_webhooks() -> int:
    """Turn the outbox rows waiting into deliveries, until none waits."""
    total = 0
    while dispatched := webhooks.dispatch():
        total += dispatched
    return total


@task()
def deliver_webhooks(delivery_ids: list[str]) -> dict[str, int]:
    """Send these deliveries (each claimed first), each at most once now."""
    return webhooks.deliver(delivery_ids)


@task()
def tell_organizer_endpoint_disabled(endpoint_id: str, attempt: int = 1) -> bool:
    """Mail an endpoint's organizer that it was turned off. A mail server
    that fails is tried again on the attendee mails' schedule (MAIL_RETRY_*:
    backoff, for a day), by this task queued again; then the task fails,
    visibly, in the queue."""
    try:
        return webhooks.tell_organizer_endpoint_disabled(endpoint_id)
    except (OSError, smtplib.SMTPException) as exc:
        waited = sum((_mail_backoff(n) for n in range(1, attempt)), timedelta())
        wait = _mail_backoff(attempt)
        if (waited + wait).total_seconds() > settings.MAIL_RETRY_FOR_SECONDS:
            raise
        logger.warning(
            "webhook endpoint %s: the mail to its organizer failed (%s); again in %s", endpoint_id, exc, wait
        )
        enqueue(tell_organizer_endpoint_disabled, endpoint_id, attempt + 1, run_after=timezone.now() + wait)
        return False


def _mail_backoff(attempt: int) -> timedelta:
    return retries.backoff(
        attempt, first=settings.MAIL_RETRY_FIRST_SECONDS, cap=settings.MAIL_RETRY_MAX_SECONDS
    )
