"""What a database error means for the client: retry later, or our bug.

Django wraps the driver's exceptions (``django.db.OperationalError`` and
friends) and keeps the driver's one as ``__cause__``; PostgreSQL's SQLSTATE
says what happened. Three answers:

- ``UNAVAILABLE``: the database cannot be reached, is restarting, or a
  statement ran past ``statement_timeout``: 503 with ``Retry-After``;
- ``BUSY``: a lock was not granted in ``lock_timeout``, a deadlock or a
  serialization failure (SQLite: "database is locked"): 409
  ``concurrent_update`` with ``Retry-After``;
- ``None``: anything else (a constraint nobody expected, bad SQL): our bug,
  a 500 with the traceback in the log.
"""

import enum

import psycopg
from django.db import DatabaseError, InterfaceError, OperationalError


class DbFault(enum.Enum):
    UNAVAILABLE = "unavailable"
    BUSY = "busy"


# SQLSTATE classes and codes (PostgreSQL, Appendix A).
_UNAVAILABLE_CLASSES = ("08",)  # connection exception
_UNAVAILABLE_CODES = {
    "57P01",  # admin_shutdown: the server is stopping
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now: starting up / recovering
    "57014",  # query_canceled: statement_timeout
    "53300",  # too_many_connections
}
_BUSY_CODES = {
    "55P03",  # lock_not_available: lock_timeout
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
}
_SQLITE_BUSY = ("database is locked", "database table is locked")
_SQLITE_UNAVAILABLE = ("unable to open database file", "disk I/O error")


def db_fault(exc: BaseException) -> DbFault | None:
    """Classify ``exc`` (any exception; None for non-database ones)."""
    if not isinstance(exc, (DatabaseError, InterfaceError)):
        return None
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate in _BUSY_CODES or any(text in str(exc) for text in _SQLITE_BUSY):
        return DbFault.BUSY
    if sqlstate in _UNAVAILABLE_CODES or (sqlstate or "").startswith(_UNAVAILABLE_CLASSES):
        return DbFault.UNAVAILABLE
    if isinstance(exc, InterfaceError):
        # "connection already closed": the server went away under us.
        return DbFault.UNAVAILABLE
    if isinstance(exc, OperationalError) and isinstance(cause, psycopg.Error) and sqlstate is None:
        # No SQLSTATE: the client library failed (connection refused,
        # timeout, server closed the connection unexpectedly).
        return DbFault.UNAVAILABLE
    if any(text in str(exc) for text in _SQLITE_UNAVAILABLE):
        return DbFault.UNAVAILABLE
    # SQLite's "no such table" and friends are a deployment's or our bug.
    return None
