"""Per-request cost of a door scan, a sign-up and the one-SELECT view, in-process.

    bash scripts/with-postgres.sh .venv/bin/python bench/scan_inprocess.py [--profile scan|register|select]

Calls the WSGI application directly (what gunicorn calls per request, minus
the HTTP parsing) in one process, alternating the kinds, and prints the
median time per request of each and its ratio to the one-SELECT view (a
sign-up: a different member each time, on one event). A development tool for
finding where a scan's time goes (--profile prints the top of cProfile);
the figures the README quotes come from bench/checkin_bench.py.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
# WSGI calls carry Host: testserver; checkin_bench sets up the rest of the
# environment and Django on import.
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from api_bench import Members
from checkin_bench import fresh_tickets, grow
from cpu import postgres_cpu
from django.core.wsgi import get_wsgi_application
from django.db import connection


def environ(method: str, path: str, token: str, body: bytes = b"", query: str = "") -> dict:
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "443",
        "HTTP_HOST": "testserver",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "HTTP_X_FORWARDED_PROTO": "https",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "https",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def without_outbox(request):
    """``request`` with eventmaster.audit.record_many a no-op: what a scan or
    a sign-up costs without its domain event (an own sign-up and an API scan
    write no audit entry, only that row)."""
    from eventmaster import audit

    def run():
        original = audit.record_many
        audit.record_many = lambda *args, **kwargs: 0
        try:
            return request()
        finally:
            audit.record_many = original

    return run


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--registrations", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=400, help="requests per kind per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--profile", choices=["scan", "register", "select"], help="print cProfile's top functions"
    )
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key (cumulative, tottime)")
    parser.add_argument(
        "--outbox-ab",
        action="store_true",
        help="also scans and sign-ups with the domain event (outbox) write switched off, interleaved: its cost",
    )
    args = parser.parse_args()

    from django.test.utils import setup_test_environment
    from rest_framework_simplejwt.tokens import AccessToken

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from django.utils import timezone

        from accounts.services import user_create
        from events.models import Event
        from events.services import event_create

        organizer = user_create(
            email="bench-organizer@example.org", password=None, full_name="B", roles=["organizer"]
        )
        start = timezone.now() + timezone.timedelta(days=1)
        event = event_create(
            organizer=organizer, title="Benchmark", start_at=start, end_at=start + timezone.timedelta(hours=3),
            capacity=10_000_000, status=Event.Status.PUBLISHED,
        )  # fmt: skip
        grow(event.pk, args.registrations, 0)
        tickets_file = Path(tempfile.mkstemp(suffix=".txt")[1])
        fresh_tickets(event.pk, args.registrations, tickets_file)
        tickets = iter(tickets_file.read_text().split())
        tickets_file.unlink()
        token = str(AccessToken.for_user(organizer))
        members_file = Path(tempfile.mkstemp(suffix=".txt")[1])
        Members(members_file).make(2 * args.requests * (args.rounds + 1) + 100)
        members = iter(members_file.read_text().split())
        members_file.unlink()
        app = get_wsgi_application()
        statuses = []

        def start_response(status, headers):
            statuses.append(status)

        def scan():
            body = json.dumps(
                {"ticket_code": next(tickets), "event_id": str(event.pk), "nonce": str(uuid.uuid4())}
            ).encode()
            return b"".join(app(environ("POST", "/api/v1/checkin", token, body), start_response))

        def select():
            return b"".join(
                app(environ("GET", "/bench/select", token, query=f"code={next(tickets)}"), start_response)
            )

        def register():
            return b"".join(
                app(
                    environ("POST", f"/api/v1/events/{event.pk}/registrations", next(members)), start_response
                )
            )

        kinds = {"scan": scan, "register": register, "select": select}
        if args.outbox_ab:
            kinds = {"scan": scan, "scan-no-outbox": without_outbox(scan),
                     "register": register, "register-no-outbox": without_outbox(register), "select": select}  # fmt: skip
        for fn in kinds.values():  # warm up
            for _ in range(50):
                fn()
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.requests):
                kinds[args.profile]()
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(60)
            print(out.getvalue())
        times = {name: [] for name in kinds}
        cpu = {name: [] for name in kinds}
        pg = {name: [] for name in kinds}
        for _ in range(args.rounds):
            for name, fn in kinds.items():
                begin, begin_pg = time.perf_counter(), postgres_cpu()
                begin_cpu = time.process_time() + begin_pg
                for _ in range(args.requests):
                    fn()
                times[name].append((time.perf_counter() - begin) / args.requests * 1e6)
                end_pg = postgres_cpu()
                cpu[name].append((time.process_time() + end_pg - begin_cpu) / args.requests * 1e6)
                pg[name].append((end_pg - begin_pg) / args.requests * 1e6)
        if not all(s.startswith(("200", "201")) for s in statuses):
            sys.exit(f"unexpected statuses: {set(statuses)}")
        for label, figures in (
            ("wall time", times),
            ("CPU (this process + PostgreSQL)", cpu),
            ("of which PostgreSQL", pg),
        ):
            median = {name: statistics.median(values) for name, values in figures.items()}
            print(
                f"{label} per request (median of {args.rounds} x {args.requests}): "
                + ", ".join(
                    f"{name} {us:.0f} us (ratio {median['select'] / us:.2f})" for name, us in median.items()
                )
            )
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
