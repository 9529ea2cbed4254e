"""The event lock of sign-ups and cancels does not hold up the door."""

import threading

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from checkin.models import Scan
from events.selectors import event_get_locked

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL: row locks"),
]


def test_a_scan_commits_while_a_sign_up_holds_the_event(event, organizer):
    """A scan's log line names the event: its foreign-key check (at commit)
    takes FOR KEY SHARE on the event row. The sign-up's lock must let it
    through (FOR NO KEY UPDATE); FOR UPDATE would make every scan of the
    event wait for the sign-ups in flight."""
    locked, done, errors = threading.Event(), threading.Event(), []

    def sign_up_in_flight() -> None:
        try:
            with transaction.atomic():
                event_get_locked(pk=event.pk)
                locked.set()
                done.wait(timeout=10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=sign_up_in_flight)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            Scan.objects.create(
                event=event, ticket_code="x", result="invalid", by=organizer, created_at=timezone.now()
            )
    except Exception as exc:  # reported below
        errors.append(exc)
    finally:
        done.set()
        holder.join(timeout=10)
    assert errors == []
    assert Scan.objects.count() == 1
