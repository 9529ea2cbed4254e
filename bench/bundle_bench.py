"""Benchmark: the door bundle (GET /api/v1/events/{id}/door-bundle) at scale.

    bash scripts/with-postgres.sh .venv/bin/python bench/bundle_bench.py [--sizes 1000 100000]

Builds a throwaway database with one event per size (confirmed
registrations, a tenth of them checked in, a few cancelled), and through
Django's test client (the whole stack, in-process) fetches each event's
full bundle and a delta (``?since=`` a version taken after 100 new scans)
five times. Prints the median time and the size of each answer.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
from checkin_bench import bench_event, bench_organizer, grow  # sets Django up
from django.db import connection


def timed(fetch, rounds: int = 5) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(rounds):
        started = time.perf_counter()
        response = fetch()
        times.append(time.perf_counter() - started)
        if response.status_code != 200:
            sys.exit(f"the bundle answered {response.status_code}: {response.content[:300]!r}")
        size = len(response.content)
    return statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run on PostgreSQL: bash scripts/with-postgres.sh .venv/bin/python bench/bundle_bench.py")

    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from checkin.services import checkin_scan
        from registrations.models import Registration

        organizer = bench_organizer()
        from rest_framework_simplejwt.tokens import AccessToken

        client = Client(secure=True)

        headers = {"Authorization": f"Bearer {AccessToken.for_user(organizer)}"}
        offset = 0
        for size in args.sizes:
            event = bench_event(organizer, f"Bundle {size}")
            grow(event.pk, size, offset)
            offset += size
            with connection.cursor() as cursor:
                # Registered an hour ago (a delta reaches back a minute), a tenth checked in.
                cursor.execute(
                    "UPDATE registrations_registration SET created_at = now() - interval '2 hours', checked_in_at = "
                    "CASE WHEN random() < 0.1 THEN now() - interval '1 hour' END WHERE event_id = %s",
                    [event.pk],
                )
                cursor.execute(
                    "UPDATE registrations_registration SET status = 'cancelled', cancelled_at = now() - interval "
                    "'1 hour', cancel_reason = 'attendee_cancelled' WHERE id IN (SELECT id FROM "
                    "registrations_registration WHERE event_id = %s AND checked_in_at IS NULL LIMIT 50)",
                    [event.pk],
                )
                cursor.execute("ANALYZE registrations_registration")
            url = f"/api/v1/events/{event.pk}/door-bundle"
            full_time, full_size = timed(lambda url=url: client.get(url, headers=headers))
            gzip_time, gzip_size = timed(
                lambda url=url: client.get(url, headers={**headers, "Accept-Encoding": "gzip"})
            )
            version = client.get(url, headers=headers).json()["version"]
            time.sleep(0.01)
            for registration in Registration.objects.filter(
                event=event, checked_in_at__isnull=True, status="confirmed"
            )[:100]:
                checkin_scan(ticket_code=registration.ticket_code, event=event, by=organizer)
            delta_time, delta_size = timed(
                lambda url=url, v=version: client.get(f"{url}?since={v}", headers=headers)
            )
            delta = json.loads(client.get(f"{url}?since={version}", headers=headers).content)
            print(f"{size:>7,} registrations: full bundle {full_time * 1000:6.0f} ms, {full_size / 1e6:5.2f} MB "
                  f"(gzip: {gzip_time * 1000:6.0f} ms, {gzip_size / 1e6:5.2f} MB); "
                  f"delta after 100 scans {delta_time * 1000:5.0f} ms, {delta_size / 1e3:5.1f} kB "
                  f"({len(delta['attendees'])} attendees)", flush=True)  # fmt: skip
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
