"""Benchmark: offline scans synced in batches against single online scans.

    bash scripts/with-postgres.sh .venv/bin/python bench/batch_bench.py [--rounds 3] [--duration 10]

Builds a throwaway database with one event of 100,000 registrations, starts
gunicorn (2 workers) and, alternating in the same run, drives from 4
client threads (Python, keep-alive connections) for a fixed time: single
scans (POST /api/v1/checkin, each with a nonce) and batches of 200 scans
(POST /api/v1/checkin/batch, each scan with its nonce and scanned_at), every
ticket a fresh one. Prints, medians over the rounds, scans per second and
the server's CPU per scan (gunicorn workers + PostgreSQL, steadier than
throughput on a shared machine), and the batch's ratio to the single scans
for both. Every answer is checked: each scan must come back ``ok``.
"""

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checkin_bench import bench_event, bench_organizer, grow, start_server  # sets Django up
from cpu import children_cpu, postgres_cpu
from django.db import connection

CLIENTS = 4
BATCH = 200


class Tickets:
    """Fresh ticket codes, handed out once each across the client threads."""

    def __init__(self, codes: list[str]) -> None:
        self._codes, self._lock = codes, threading.Lock()

    def take(self, count: int) -> list[str]:
        with self._lock:
            taken, self._codes = self._codes[:count], self._codes[count:]
        if len(taken) < count:
            sys.exit("out of fresh tickets: raise --registrations")
        return taken


def drive(kind: str, url: str, token: str, event_id: str, tickets: Tickets, seconds: float) -> int:
    """Scans made by CLIENTS threads in ``seconds``; exits on a wrong answer."""
    done: list[int] = []
    stop_at = time.monotonic() + seconds

    def client() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        count = 0
        while time.monotonic() < stop_at:
            if kind == "single":
                (code,) = tickets.take(1)
                body = {"event_id": event_id, "ticket_code": code, "nonce": str(uuid.uuid4())}
                answer = session.post(f"{url}/api/v1/checkin", json=body, timeout=60)
                results = [answer.json()["result"]] if answer.status_code == 200 else [answer.text]
            else:
                at = datetime.now(UTC).isoformat()
                scans = [{"nonce": str(uuid.uuid4()), "ticket_code": code, "scanned_at": at}
                         for code in tickets.take(BATCH)]  # fmt: skip
                body = {"event_id": event_id, "device": "bench", "scans": scans}
                answer = session.post(f"{url}/api/v1/checkin/batch", json=body, timeout=120)
                results = (
                    [r["result"] for r in answer.json()["results"]]
                    if answer.status_code == 200
                    else [answer.text]
                )
            if set(results) != {"ok"}:
                print(f"unexpected answer: {results[:3]}", flush=True)
                os._exit(1)
            count += len(results)
        done.append(count)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--registrations", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=10, help="seconds per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run on PostgreSQL: bash scripts/with-postgres.sh .venv/bin/python bench/batch_bench.py")

    from django.test.utils import setup_test_environment
    from rest_framework_simplejwt.tokens import AccessToken

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    server = None
    try:
        organizer = bench_organizer()
        event = bench_event(organizer, "Batch benchmark")
        grow(event.pk, args.registrations, 0)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT ticket_code FROM registrations_registration WHERE event_id = %s ORDER BY random()",
                [event.pk],
            )
            tickets = Tickets([row[0] for row in cursor.fetchall()])
        token = str(AccessToken.for_user(organizer))
        connection.close()
        server, url = start_server(args.workers)
        print(f"PostgreSQL, gunicorn {args.workers} workers, {CLIENTS} client threads, batches of {BATCH}, "
              f"{args.rounds} x {args.duration:g}s per kind, {os.cpu_count()} cores", flush=True)  # fmt: skip
        drive("single", url, token, str(event.pk), tickets, 2)  # warm-up
        drive("batch", url, token, str(event.pk), tickets, 2)
        figures: dict[str, list[tuple[float, float]]] = {"single": [], "batch": []}
        for round_ in range(args.rounds):
            for kind in ("single", "batch"):
                cpu_before = children_cpu(server.pid) + postgres_cpu()
                started = time.monotonic()
                scans = drive(kind, url, token, str(event.pk), tickets, args.duration)
                elapsed = time.monotonic() - started
                cpu = children_cpu(server.pid) + postgres_cpu() - cpu_before
                figures[kind].append((scans / elapsed, cpu * 1000 / scans))
                print(f"round {round_ + 1} {kind:6}: {scans / elapsed:7.0f} scans/s, "
                      f"{cpu * 1000 / scans:.2f} ms CPU per scan", flush=True)  # fmt: skip
        single_rate = statistics.median(rate for rate, _ in figures["single"])
        batch_rate = statistics.median(rate for rate, _ in figures["batch"])
        single_cpu = statistics.median(cpu for _, cpu in figures["single"])
        batch_cpu = statistics.median(cpu for _, cpu in figures["batch"])
        print(f"\nmedians: single {single_rate:.0f} scans/s ({single_cpu:.2f} ms CPU per scan), "
              f"batch of {BATCH} {batch_rate:.0f} scans/s ({batch_cpu:.2f} ms CPU per scan)")  # fmt: skip
        print(f"batch / single: {batch_rate / single_rate:.2f}x scans per second, "
              f"{single_cpu / batch_cpu:.2f}x less server CPU per scan")  # fmt: skip
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
