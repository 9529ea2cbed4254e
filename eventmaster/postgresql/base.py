"""Django's PostgreSQL backend, with a health check that costs no round trip.

With ``CONN_HEALTH_CHECKS`` Django checks a persistent connection before each
request's first query, and its PostgreSQL backend does so with ``SELECT 1``:
one round trip on every request, a tenth of a door scan's work. A
connection that is idle between requests has nothing to read, unless the
server has gone: a restarted or stopped PostgreSQL, or a terminated backend,
sends its last error and closes the socket, which makes the socket
readable. So an idle connection whose socket has nothing to read is usable
(a look at the socket, no round trip); one with something to read, or not
idle, is checked the usual way (``SELECT 1``) and Django reconnects if that
fails. A server that vanished without closing (a cut network) is found by
the request's first query, as it would be a moment after a ``SELECT 1``:
the connect and statement timeouts bound it, and the request is a 503.
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
                readable, _, _ = select.select([connection.fileno()], [], [], 0)
            except (OSError, ValueError):
                return False
            if not readable:
                return True
        return bool(super().is_usable())
