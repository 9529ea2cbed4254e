"""Django's PostgreSQL backend, with a health check that costs no round trip.

With ``CONN_HEALTH_CHECKS`` Django checks a persistent connection before each
request's first query, and its PostgreSQL backend does so with ``SELECT 1``:
one round trip on every request, a tenth of a door scan's work. A
connection that is idle between requests has nothing to read, unless the
server has gone: a restarted or stopped PostgreSQL, a terminated backend or
a PgBouncer that drops the client sends its last error and closes the
socket, which makes the socket readable. So an idle connection whose socket
has nothing to read is usable (a look at the socket, no round trip); one
with something to read, one not idle, or a socket that cannot be looked at
is checked the usual way (``SELECT 1``), and Django reconnects if that fails.

What neither check sees: a peer that vanished without closing (a cut
network), or a middlebox that dropped an idle connection silently and
resets it only at the next packet. The request's first query then fails
(503) or waits for TCP to give up; ``SELECT 1`` would have waited the
same. Keep ``DB_CONN_MAX_AGE`` under the idle timeout of any load balancer
or NAT between the web tier and PostgreSQL (README, Configuration).
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        if connection.info.transaction_status == pq.TransactionStatus.IDLE:
            try:
                poller = select.poll()
                poller.register(connection.fileno(), select.POLLIN)
                if not poller.poll(0):
                    return True  # nothing to read: the server has not gone
            except (OSError, ValueError):
                pass  # not a socket to look at: ask the server
        return bool(super().is_usable())
