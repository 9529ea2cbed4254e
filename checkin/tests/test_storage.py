"""How a check-in is stored on PostgreSQL: in place (a HOT update), so a scan
writes no index entries for the registration."""

import pytest
from django.db import connection

from checkin import services

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL storage"),
]


def one(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def test_registrations_leave_room_on_each_page():
    assert one("SELECT reloptions FROM pg_class WHERE relname = 'registrations_registration'") == [
        "fillfactor=85"
    ]


def test_a_check_in_and_its_undo_are_hot_updates(registration, event, organizer):
    def counters() -> tuple[int, int]:
        # This backend's counters not yet reported (the test runs inside one
        # transaction, so nothing is reported until it ends).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_stat_get_xact_tuples_updated(oid), pg_stat_get_xact_tuples_hot_updated(oid)"
                " FROM pg_class WHERE relname = 'registrations_registration'"
            )
            return cursor.fetchone()

    updated_before, hot_before = counters()
    services.checkin_scan(ticket_code=registration.ticket_code, event=event, by=organizer)
    services.checkin_undo(ticket_code=registration.ticket_code, event=event, by=organizer)
    updated, hot = counters()
    assert (updated - updated_before, hot - hot_before) == (2, 2)
