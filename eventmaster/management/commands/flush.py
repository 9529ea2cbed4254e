"""Django's ``flush``, through the audit table's append-only triggers.

On SQLite ``flush`` empties tables with DELETE, which the triggers refuse
(PostgreSQL's TRUNCATE fires no row trigger): they are lifted for the flush
and put back in the same transaction. Emptying the whole database empties
the audit trail too; whoever can run this can do anything to the database.
"""

from typing import Any

from django.core.management.commands import flush
from django.db import connections, transaction

from eventmaster.audit import append_only_statements


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor != "sqlite":
            return super().handle(**options)
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            for statement in append_only_statements("sqlite", install=False):
                cursor.execute(statement)
            super().handle(**options)
            for statement in append_only_statements("sqlite", install=True):
                cursor.execute(statement)
