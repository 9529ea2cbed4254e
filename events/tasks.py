"""The events app's background tasks: webhooks (events.webhooks)."""

from django_tasks import task

from . import webhooks


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
def tell_organizer_endpoint_disabled(endpoint_id: str) -> bool:
    """Mail an endpoint's organizer that it was turned off (an SMTP failure
    fails the task, visibly, in the queue)."""
    return webhooks.tell_organizer_endpoint_disabled(endpoint_id)
