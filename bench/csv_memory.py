"""Benchmark: peak memory of the streamed attendee CSV export vs row count.

    .venv/bin/python bench/csv_memory.py [--rows 10000 100000]
    bash scripts/with-postgres.sh .venv/bin/python bench/csv_memory.py   # on PostgreSQL

Builds a throwaway database (a temp SQLite file, or a fresh database on the
server of DATABASE_URL), fills one event per row count, streams each export
through the real view and prints rows, peak traced memory and time. A
streamed export has the same peak at every size.
"""

import argparse
import os
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eventmaster.settings_test")
os.environ.setdefault("LOG_LEVEL", "WARNING")
warnings.filterwarnings("ignore", message="No directory at")

import django

django.setup()

from django.db import connection
from django.test.utils import setup_test_environment

from eventmaster.tests.utils import client_for


def measure(event) -> tuple[int, int, float]:
    client = client_for(event.organizer)
    for _ in client.get(f"/api/v1/events/{event.pk}/attendees.csv").streaming_content:
        break  # warm-up
    started = time.perf_counter()
    tracemalloc.start()
    response = client.get(f"/api/v1/events/{event.pk}/attendees.csv")
    rows = sum(chunk.count(b"\n") for chunk in response.streaming_content) - 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return rows, peak, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from events.tests.factories import EventFactory
        from registrations.tests.bulk import bulk_registrations

        print(f"database: {connection.vendor}")
        print(f"{'rows':>9} {'peak traced memory':>20} {'time':>8}")
        for size in args.rows:
            event = EventFactory(capacity=max(size, 1))
            bulk_registrations(event, size, prefix=f"b{size}-")
            rows, peak, seconds = measure(event)
            print(f"{rows:>9} {peak / 1024 / 1024:>17.2f} MiB {seconds:>7.2f}s")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
