"""Bulk test data: many registrations fast (no per-row services)."""

from django.db import connection
from django.utils import timezone

from accounts.models import User
from registrations.models import Registration, new_ticket_code
from registrations.tests.factories import counts_refreshed


def bulk_registrations(event, count: int, prefix: str = "bulk", batch: int = 5000) -> None:
    """``count`` confirmed registrations of new users for ``event`` (its
    counters recounted at the end)."""
    now = timezone.now()
    for start in range(0, count, batch):
        size = min(batch, count - start)
        users = User.objects.bulk_create(
            User(email=f"{prefix}{start + i}@example.org", full_name=f"Attendee {start + i}", password="!")
            for i in range(size)
        )
        Registration.objects.bulk_create(
            Registration(
                event=event, user=user, status="confirmed", ticket_code=new_ticket_code(), created_at=now
            )
            for user in users
        )
    counts_refreshed(event)
    if connection.vendor == "postgresql":
        # Fresh statistics, as autovacuum would give them in time: those left
        # by an earlier test (one event of 66,000 registrations) once made
        # the planner loop over every user per registration, past the
        # statement timeout.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE accounts_user, registrations_registration")
