"""eventmaster.postgresql: the health check before a request's first query
looks at the socket instead of sending SELECT 1, and still finds a
connection the server has dropped."""

import time

import pytest
from django.db import close_old_connections, connection

from accounts.tests.factories import UserFactory
from eventmaster.tests.utils import client_for

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend"),
    pytest.mark.django_db(transaction=True),  # autocommit: an idle connection, as between requests
]


def statements_sent(monkeypatch) -> list[str]:
    """What the backend sends on its own (its SELECT 1 bypasses Django's
    cursor, so CaptureQueriesContext would not see it)."""
    sent: list[str] = []
    raw = type(connection.connection)
    execute = raw.execute

    def recording(self, query, *args, **kwargs):
        sent.append(str(query))
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(raw, "execute", recording)
    cursor_class = type(connection.connection.cursor())
    cursor_execute = cursor_class.execute

    def cursor_recording(self, query, *args, **kwargs):
        sent.append(str(query))
        return cursor_execute(self, query, *args, **kwargs)

    monkeypatch.setattr(cursor_class, "execute", cursor_recording)
    return sent


def test_an_idle_live_connection_is_usable_without_a_round_trip(monkeypatch):
    connection.ensure_connection()
    sent = statements_sent(monkeypatch)
    assert connection.is_usable() is True
    assert sent == []


def test_a_connection_the_server_dropped_is_found_and_the_request_served(monkeypatch):
    client = client_for(UserFactory())
    assert client.get("/api/v1/me/registrations").status_code == 200
    pid = connection.connection.info.backend_pid
    with connection._nodb_cursor() as other:  # another connection ends this one's backend
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)  # the server's last message reaches the socket
    assert connection.is_usable() is False
    # What the start of every request does (the test client leaves it out):
    # the next first query checks the connection.
    close_old_connections()
    response = client.get("/api/v1/me/registrations")
    assert response.status_code == 200, response.content
    assert connection.connection.info.backend_pid != pid


def test_a_connection_inside_a_transaction_is_checked_the_usual_way(monkeypatch):
    connection.ensure_connection()
    connection.connection.execute("BEGIN")
    sent = statements_sent(monkeypatch)
    try:
        assert connection.is_usable() is True
        assert sent == ["SELECT 1"]
    finally:
        connection.connection.execute("ROLLBACK")
