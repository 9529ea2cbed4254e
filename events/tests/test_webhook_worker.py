"""Webhooks through a real worker (``manage.py run_worker``) and a real
receiver on loopback: the worker is SIGKILLed while the receiver holds one
of its POSTs. On SQLite and PostgreSQL."""

import threading
import time

import pytest

from accounts.tests.factories import UserFactory
from eventmaster.tests.smtp import free_port
from eventmaster.tests.workers import wait_until, worker, worker_env
from events.models import WebhookDelivery, WebhookEndpoint
from events.tests.factories import EventFactory
from events.tests.test_webhooks import Receiver
from registrations.services import registration_create

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


class HoldingReceiver(Receiver):
    """A receiver that holds the first POST it gets, unanswered, until
    ``release()``: the worker that sent it waits for the answer."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = threading.Event()  # set when the first POST is held
        self._released = threading.Event()

    def answer(self, number: int) -> None:
        if number == 1:
            self.holding.set()
            self._released.wait(timeout=60)

    def release(self) -> None:
        self._released.set()


def test_a_worker_killed_mid_delivery_loses_no_webhook_and_a_duplicate_keeps_its_id(settings, organizer):
    """20 sign-ups, one endpoint. The receiver holds the first POST and the
    test SIGKILLs the worker meanwhile: that delivery is claimed, sent, and
    never recorded. A second worker sends it again once the claim is over
    (housekeeping: WEBHOOK_RESUME_AFTER_SECONDS), with the same webhook-id,
    and everything else. Every message verifies with the standardwebhooks
    library; each of the 20 is delivered; the only duplicate is the one in
    flight at the kill."""
    settings.WEBHOOK_DISPATCH_ON_COMMIT = True
    event = EventFactory(organizer=organizer, capacity=100)
    receiver = HoldingReceiver()
    try:
        endpoint = WebhookEndpoint.objects.create(
            organizer=organizer, url=receiver.url, event_types=["registration.created"]
        )
        env = worker_env(
            smtp_port=free_port(),
            WEBHOOK_ALLOW_PRIVATE_DESTINATIONS="true",
            WEBHOOK_TIMEOUT_SECONDS=30,  # the held POST waits; the kill ends it
            WEBHOOK_CLAIM_SECONDS=2,
            WEBHOOK_RESUME_AFTER_SECONDS=1,
            TASK_WORKER_DEAD_AFTER=2,
        )
        with worker(env) as first:
            for _ in range(20):
                registration_create(event=event, user=UserFactory())
            assert receiver.holding.wait(timeout=60), "the worker sent nothing"
            assert first.kill() == -9
        held = WebhookDelivery.objects.get(claimed_until__isnull=False)
        assert held.status == "pending" and held.attempts == 0  # sent, never recorded
        receiver.release()
        with worker(env):
            wait_until(
                lambda: WebhookDelivery.objects.filter(status="delivered").count() == 20,
                timeout=60,
                what="all 20 deliveries recorded as delivered",
            )
            time.sleep(1)  # time for a stray duplicate to show
        payloads = receiver.verified(endpoint.secret)  # raises if a signature fails
    finally:
        receiver.release()
        receiver.stop()
    ids = [headers["webhook-id"] for headers, _ in receiver.requests]
    deliveries = {d.message_id: d for d in WebhookDelivery.objects.all()}
    assert set(ids) == set(deliveries) and len(deliveries) == 20  # every one, and nothing else
    duplicates = [webhook_id for webhook_id in set(ids) if ids.count(webhook_id) > 1]
    assert duplicates == [held.message_id]  # only the one in flight, under its own webhook-id
    assert len(ids) == 21
    assert len({p["id"] for p in payloads}) == 20  # the duplicate is the same message
    held.refresh_from_db()
    assert (held.status, held.attempts) == ("delivered", 1)  # the killed attempt left no record
