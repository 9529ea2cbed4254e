"""Benchmark: door scans per second and latency on gunicorn + PostgreSQL.

    bash scripts/with-postgres.sh .venv/bin/python bench/checkin_bench.py
    (or with DATABASE_URL=postgres://... set: .venv/bin/python bench/checkin_bench.py)

Builds a throwaway database with one event of 100,000 registrations, starts
gunicorn, and drives scans of distinct tickets (POST /api/v1/checkin, each
with a nonce) from wrk for a fixed time. In the same run, alternating with
it, wrk drives a minimal Django view doing one indexed SELECT on the same
server (bench/urls.py), so the ratio of the two is machine-independent.
Then it grows the table to 1,000,000 registrations and measures again.
Prints requests per second and p50/p99 latency (medians over the rounds).
"""

import argparse
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import requests
from cpu import children_cpu, postgres_cpu

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("RATELIMIT_ENABLE", "false")
os.environ.setdefault("ACCESS_TOKEN_MINUTES", "600")

import django

django.setup()

from django.db import connection


def ensure_wrk() -> str:
    if wrk := shutil.which("wrk"):
        return wrk
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (apt-get install wrk) ...", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
        if wrk := shutil.which("wrk"):
            return wrk
    sys.exit("wrk (HTTP load generator) is needed: apt-get install wrk")


def bench_organizer():
    """The organizer the benchmarks act as (in their throwaway database)."""
    from accounts.services import user_create

    return user_create(
        email="bench-organizer@example.org", password=None, full_name="Bench", roles=["organizer"]
    )


def bench_event(organizer, title: str):
    """A published event of ``organizer`` starting tomorrow, with room for
    any number of registrations (``grow`` fills it)."""
    from django.utils import timezone

    from events.models import Event
    from events.services import event_create

    start = timezone.now() + timezone.timedelta(days=1)
    return event_create(
        organizer=organizer, title=title, start_at=start, end_at=start + timezone.timedelta(hours=3),
        capacity=10_000_000, status=Event.Status.PUBLISHED,
    )  # fmt: skip


def grow(event_id, count: int, offset: int) -> None:
    """``count`` more confirmed registrations (new users) for the event, by SQL
    on the server: Python-side inserts would dominate the set-up time."""
    batch = 100_000
    with connection.cursor() as cursor:
        for start in range(offset, offset + count, batch):
            stop = min(start + batch, offset + count) - 1
            cursor.execute(
                """
                WITH u AS (
                    INSERT INTO accounts_user (id, password, is_superuser, email, full_name, is_active, is_staff, date_joined)
                    SELECT gen_random_uuid(), '!', false, 'bench' || g || '@example.org', 'Attendee ' || g, true, false, now()
                    FROM generate_series(%s::integer, %s::integer) g
                    RETURNING id
                )
                INSERT INTO registrations_registration (id, event_id, user_id, status, ticket_code, created_at)
                SELECT gen_random_uuid(), %s::uuid, u.id, 'confirmed',
                       replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', ''), now()
                FROM u
                """,
                [start, stop, event_id],
            )
        cursor.execute("ANALYZE accounts_user; ANALYZE registrations_registration; ANALYZE checkin_scan")


def fresh_tickets(event_id, limit: int, path: Path) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ticket_code FROM registrations_registration WHERE event_id = %s AND checked_in_at IS NULL "
            "ORDER BY random() LIMIT %s",
            [event_id, limit],
        )
        codes = [row[0] for row in cursor.fetchall()]
    path.write_text("\n".join(codes) + "\n")
    return len(codes)


def run_wrk(wrk: str, script: Path, url: str, env: dict, args, server_pid: int | None = None) -> dict:
    app_before, pg_before = children_cpu(server_pid or 0), postgres_cpu()
    out = subprocess.run(
        [
            wrk,
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{args.duration}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        env={**env, "WRK_THREADS": str(args.threads)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def latency(pct: str) -> float:
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    app_cpu, pg_cpu = children_cpu(server_pid or 0) - app_before, postgres_cpu() - pg_before
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests_done = int(re.search(r"(\d+) requests in", out).group(1))
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": requests_done,
        # CPU milliseconds per request: gunicorn's workers, PostgreSQL.
        "app_ms": app_cpu * 1000 / max(requests_done, 1),
        "pg_ms": pg_cpu * 1000 / max(requests_done, 1),
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": int(errors.group(1)) if errors else 0,
    }


def start_server(workers: int) -> tuple[subprocess.Popen, str]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
    }
    port = 18000 + os.getpid() % 1000
    log = open(Path(tempfile.gettempdir()) / f"bench-gunicorn-{port}.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "eventmaster.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--no-control-socket", "--access-logfile", "/dev/null"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if requests.get(f"{url}/readyz", timeout=2).status_code == 200:
                return process, url
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    sys.exit(f"gunicorn did not start; see {log.name}")


def measure(wrk, url, env, args, label: str, tickets: Path, server_pid: int) -> dict:
    from checkin.models import Scan

    baseline, scans = [], []
    # Nonces are unique per scan: a nonce sent again with another ticket is a
    # 409 nonce_reused, so each measure() gets a run id of its own (the
    # 1,000,000 pass scans as the same user as the 100,000 one).
    env = {**env, "TICKETS": str(tickets), "RUN": str(secrets.randbelow(0xFFF))}
    warm = argparse.Namespace(**{**vars(args), "duration": 2})
    run_wrk(wrk, ROOT / "bench" / "select.lua", url, env, warm)  # workers, pools and caches warm
    used = run_wrk(wrk, ROOT / "bench" / "scan.lua", url, {**env, "START": "0"}, warm)["requests"] + 1000
    last_before = Scan.objects.order_by("-id").values_list("id", flat=True).first() or 0
    for _ in range(args.rounds):  # alternate, so drift on a shared machine hits both alike
        baseline.append(run_wrk(wrk, ROOT / "bench" / "select.lua", url, env, args, server_pid))
        # Every scan is of a ticket never scanned before (and has a new nonce):
        # each run starts past the tickets of the runs before it.
        scans.append(
            run_wrk(wrk, ROOT / "bench" / "scan.lua", url, {**env, "START": str(used)}, args, server_pid)
        )
        used += scans[-1]["requests"] + 1000
    results = Counter(Scan.objects.filter(id__gt=last_before).values_list("result", flat=True))
    ok_scans = results["ok"]
    total_scans = sum(s["requests"] for s in scans)

    def med(runs, key):
        return statistics.median(r[key] for r in runs)

    row = {
        "label": label,
        "base_rps": med(baseline, "rps"), "base_p50": med(baseline, "p50"), "base_p99": med(baseline, "p99"),
        "scan_rps": med(scans, "rps"), "scan_p50": med(scans, "p50"), "scan_p99": med(scans, "p99"),
        "errors": sum(r["errors"] for r in baseline + scans), "ok": ok_scans, "scans": total_scans,
        "base_app_ms": med(baseline, "app_ms"), "base_pg_ms": med(baseline, "pg_ms"),
        "scan_app_ms": med(scans, "app_ms"), "scan_pg_ms": med(scans, "pg_ms"),
    }  # fmt: skip
    row["ratio"] = row["scan_rps"] / row["base_rps"]
    print(
        f"{label:>10} | one-SELECT view {row['base_rps']:7.0f} req/s p50 {row['base_p50']:6.2f} ms p99 {row['base_p99']:6.2f} ms"
        f" | scans {row['scan_rps']:7.0f}/s p50 {row['scan_p50']:6.2f} ms p99 {row['scan_p99']:6.2f} ms"
        f" | ratio {row['ratio']:.2f} | non-2xx {row['errors']} | scan results {dict(results)}\n"
        f"{'':>10} | CPU per request (gunicorn workers + PostgreSQL): one-SELECT view {row['base_app_ms']:.2f} + "
        f"{row['base_pg_ms']:.2f} ms, scan {row['scan_app_ms']:.2f} + {row['scan_pg_ms']:.2f} ms",
        flush=True,
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating rounds per size (medians are shown)"
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run on PostgreSQL: bash scripts/with-postgres.sh .venv/bin/python bench/checkin_bench.py")
    wrk = ensure_wrk()

    from django.test.utils import setup_test_environment
    from rest_framework_simplejwt.tokens import AccessToken

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    server = None
    try:
        organizer = bench_organizer()
        event = bench_event(organizer, "Benchmark")
        env = {**os.environ, "EVENT_ID": str(event.pk), "TOKEN": str(AccessToken.for_user(organizer))}
        connection.close()
        server, url = start_server(args.workers)
        print(f"PostgreSQL, gunicorn {args.workers} workers, wrk {args.threads} threads x {args.connections} "
              f"connections, {args.rounds} x {args.duration}s per kind and size, {os.cpu_count()} cores", flush=True)  # fmt: skip
        rows, have = [], 0
        tickets = Path(tempfile.mkstemp(suffix=".txt")[1])
        for size in sorted(args.sizes):
            started = time.perf_counter()
            grow(event.pk, size - have, have)
            have = size
            fresh_tickets(event.pk, 200_000, tickets)
            print(f"{size:,} registrations ready in {time.perf_counter() - started:.0f}s", flush=True)
            rows.append(measure(wrk, url, env, args, f"{size:,}", tickets, server.pid))
        if len(rows) > 1:
            first, last = rows[0], rows[-1]
            print(f"scan p99 at {last['label']} vs {first['label']}: {last['scan_p99'] / first['scan_p99']:.2f}x; "
                  f"scan/one-SELECT throughput ratio {first['ratio']:.2f} and {last['ratio']:.2f}")  # fmt: skip
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
