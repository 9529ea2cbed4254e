"""Django's ``flush``, through the audit table's append-only triggers.

``flush`` empties every table (DELETE on SQLite, TRUNCATE on PostgreSQL),
which the triggers refuse: they are lifted for the flush and put back in
the same transaction. Emptying the whole database empties the audit trail
too; whoever can run this can do anything to the database.
"""

from typing import Any

from django.core.management.commands import flush
from django.db import connections, transaction

from eventmaster.audit import append_only_statements


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        vendor = connection.vendor
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            for statement in append_only_statements(vendor, install=False):
                cursor.execute(statement)
            super().handle(**options)
            for statement in append_only_statements(vendor, install=True):
                cursor.execute(statement)
