"""SQLite serializes writers; configured right, concurrent writers wait
instead of failing with "database is locked"."""

import threading

import pytest
from django.db import connection, connections, transaction

from accounts.models import User


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_wait_instead_of_failing():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite-specific: PostgreSQL has row locks")
    threads, errors = 8, []
    barrier = threading.Barrier(threads)

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(10):
                # A read then a write in one transaction: without IMMEDIATE the
                # lock upgrade fails at once when another writer holds it.
                with transaction.atomic():
                    User.objects.filter(email__startswith=f"w{n}-").count()
                    User.objects.create(email=f"w{n}-{i}@example.org", full_name="W")
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connections.close_all()

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert User.objects.filter(email__startswith="w").count() == threads * 10
