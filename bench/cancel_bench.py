"""Benchmark: cancelling an event of 100,000 registrations, end to end.

    bash scripts/with-postgres.sh .venv/bin/python bench/cancel_bench.py [--registrations 100000] [--workers 2]
    (or with DATABASE_URL=postgres://... set: .venv/bin/python bench/cancel_bench.py)

Builds a throwaway database with one published future event, its organizer
and an admin (and another event of ``--other`` registrations); starts gunicorn, ``--workers`` task workers (``manage.py
run_worker``, production settings, the SMTP backend) and a local SMTP sink
(aiosmtpd, in this process) that counts what arrives. Then:

1. the admin pages of the event at 1,000 and at ``--registrations``
   registrations: the event's change page and the registration list
   filtered by the event, SQL queries per page (in-process, Django's test
   client) and the median time per page in-process and through gunicorn
   (a real admin login with CSRF);
2. the organizer cancels the event (``POST /api/v1/events/{id}/cancel``):
   the request's wall time, then the time until the last of the mails
   reaches the sink, each recipient once (duplicates and missing ones are
   counted), mails per second and CPU per mail (workers, PostgreSQL, sink).

Prints a summary table; exits non-zero when a check fails (a non-200, a
mail not delivered or delivered twice, a failed task or mail).
"""

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Production settings (eventmaster.settings), as the servers run them.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eventmaster.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
warnings.filterwarnings("ignore", message="No directory at")  # staticfiles/ not collected: served unhashed

import django

django.setup()

from aiosmtpd.controller import Controller
from checkin_bench import grow
from cpu import postgres_cpu
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment

from eventmaster.tests.server import gunicorn, prepare_shared_cache, server_env

ADMIN_PASSWORD = "Bench-admin-passphrase-7341!"  # noqa: S105  # a throwaway database's
HTTPS = {"X-Forwarded-Proto": "https"}  # behind the TLS proxy (secure cookies, no redirect)
_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pid_cpu(pid: int) -> float:
    """CPU seconds (user + system) of one process so far; 0 once gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def own_cpu() -> float:
    times = os.times()
    return times.user + times.system


# --- The SMTP sink ----------------------------------------------------------

_SUBJECT = re.compile(rb"^Subject: ([^\r\n]*)", re.M | re.I)
_MESSAGE_ID = re.compile(rb"^Message-ID: ([^\r\n]*)", re.M | re.I)


class Sink:
    """aiosmtpd handler: counts messages by recipient and Message-ID and
    keeps the arrival time (perf_counter) of the first and the last one.
    Runs in the controller's thread; the main thread only reads."""

    def __init__(self) -> None:
        self.messages = 0
        self.recipients: Counter[str] = Counter()
        self.message_ids: Counter[bytes] = Counter()
        self.subjects: Counter[bytes] = Counter()
        self.first: float | None = None
        self.last: float | None = None

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's hook name
        now = time.perf_counter()
        head = envelope.content.split(b"\r\n\r\n", 1)[0]
        subject, message_id = _SUBJECT.search(head), _MESSAGE_ID.search(head)
        self.subjects[subject.group(1) if subject else b""] += 1
        self.message_ids[message_id.group(1) if message_id else b""] += 1
        for recipient in envelope.rcpt_tos:
            self.recipients[recipient.lower()] += 1
        self.messages += 1
        if self.first is None:
            self.first = now
        self.last = now
        return "250 OK"


def start_sink(stack: ExitStack) -> tuple[Sink, int]:
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    stack.callback(controller.stop)
    return sink, port


# --- Processes ----------------------------------------------------------------


def start_workers(stack: ExitStack, count: int, smtp_port: int, log_dir: Path) -> list[subprocess.Popen]:
    env = server_env(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
    )
    workers = []
    for index in range(count):
        with open(log_dir / f"worker-{index}.log", "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "run_worker", "--no-startup-delay", "--interval", "0.2"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        stack.callback(stop_process, process)
        workers.append(process)
    return workers


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM (a worker finishes its task first), then SIGKILL."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_for_workers(workers: list[subprocess.Popen], log_dir: Path) -> None:
    from eventmaster.models import WorkerHeartbeat

    deadline = time.monotonic() + 60
    while WorkerHeartbeat.objects.filter(pid__in=[w.pid for w in workers]).count() < len(workers):
        for index, worker in enumerate(workers):
            if worker.poll() is not None:
                sys.exit(f"worker {index} exited: {(log_dir / f'worker-{index}.log').read_text()[-3000:]}")
        if time.monotonic() > deadline:
            sys.exit(f"the workers did not start; see {log_dir}")
        time.sleep(0.2)


# --- Data ---------------------------------------------------------------------


def grow_to(event, have: int, size: int, *, first_user: int = 0) -> None:
    """Confirmed registrations of new users (bench<n>@example.org from
    ``first_user``) up to ``size``, by SQL on the server, and the event's
    counter columns recounted."""
    from events.models import Event
    from registrations.services import event_counts_refresh

    if size > have:
        grow(event.pk, size - have, first_user + have)
    event_counts_refresh(events=Event.objects.filter(pk=event.pk))
    event.refresh_from_db()
    if event.confirmed_count != size:
        sys.exit(f"the event counts {event.confirmed_count:,} confirmed, not {size:,}")


# --- Admin pages --------------------------------------------------------------


def admin_pages(event, size: int) -> list[tuple[str, str, str]]:
    """(name, path, text the page must show)."""
    return [
        ("event change page", f"/admin/events/event/{event.pk}/change/", f"{size} confirmed"),
        (
            "registration list, event filter",
            f"/admin/registrations/registration/?event__id__exact={event.pk}",
            f"{size} registrations",
        ),
    ]


def measure_in_process(client: Client, path: str, expect: str, rounds: int) -> dict:
    """Median time, SQL queries and the slowest query of a page through
    Django's test client (this process, the same database)."""
    times, queries, slowest = [], set(), (0.0, "")
    for round_ in range(rounds + 1):  # the first warms up
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path, secure=True)
            elapsed = time.perf_counter() - started
        if response.status_code != 200 or expect not in response.content.decode():
            raise AssertionError(f"{path}: {response.status_code}, {expect!r} not in the page")
        if round_:
            times.append(elapsed)
            queries.add(len(captured.captured_queries))
            for query in captured.captured_queries:
                slowest = max(slowest, (float(query["time"]), query["sql"]))
    return {"median": statistics.median(times), "queries": sorted(queries), "slowest": slowest}


def gunicorn_admin_login(url: str, email: str) -> dict[str, str]:
    """A real admin login (CSRF token, Referer of a secure request); the
    headers of the session. The cookies are Secure, so they are sent by
    hand over this plain-HTTP loopback connection."""
    login = f"{url}/admin/login/"
    page = requests.get(login, headers=HTTPS, timeout=30)
    csrf_cookie = page.cookies["csrftoken"]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    host = url.removeprefix("http://")
    response = requests.post(
        login,
        data={"csrfmiddlewaretoken": token, "username": email, "password": ADMIN_PASSWORD, "next": "/admin/"},
        headers={**HTTPS, "Cookie": f"csrftoken={csrf_cookie}", "Referer": f"https://{host}/admin/login/"},
        allow_redirects=False,
        timeout=30,
    )
    if response.status_code != 302 or "sessionid" not in response.cookies:
        raise AssertionError(f"admin login failed: {response.status_code} {response.text[:300]}")
    return {**HTTPS, "Cookie": f"csrftoken={csrf_cookie}; sessionid={response.cookies['sessionid']}"}


def measure_gunicorn(url: str, headers: dict, path: str, expect: str, rounds: int) -> float:
    times = []
    with requests.Session() as session:
        for round_ in range(rounds + 2):  # one warm-up per gunicorn worker
            started = time.perf_counter()
            response = session.get(url + path, headers=headers, timeout=60, allow_redirects=False)
            elapsed = time.perf_counter() - started
            if response.status_code != 200 or expect not in response.text:
                raise AssertionError(
                    f"{path} via gunicorn: {response.status_code}, {expect!r} not in the page"
                )
            if round_ >= 2:
                times.append(elapsed)
    return statistics.median(times)


def measure_admin(event, size: int, client: Client, url: str, headers: dict, rounds: int) -> list[dict]:
    rows = []
    for name, path, expect in admin_pages(event, size):
        row = {"page": name, "size": size, **measure_in_process(client, path, expect, rounds)}
        row["gunicorn"] = measure_gunicorn(url, headers, path, expect, rounds)
        rows.append(row)
        print(
            f"  {name:<32} {size:>9,} registrations: {'/'.join(map(str, row['queries']))} queries, "
            f"in-process {row['median'] * 1000:7.1f} ms, gunicorn {row['gunicorn'] * 1000:7.1f} ms, "
            f"slowest query {row['slowest'][0] * 1000:6.1f} ms",
            flush=True,
        )
    return rows


# --- The cancel and its mails ---------------------------------------------------


def queue_busy() -> bool:
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]).exists()


def wait_for_mails(sink: Sink, expected: int, started: float, timeout: float, workers) -> None:
    """Until ``expected`` mails arrived and the queue is idle (so that a
    late duplicate is counted too), or nothing happened for two minutes."""
    deadline, last_seen, last_change, next_report = started + timeout, -1, time.perf_counter(), 0.0
    while True:
        now = time.perf_counter()
        if sink.messages != last_seen:
            last_seen, last_change = sink.messages, now
        if sink.messages >= expected and not queue_busy():
            return
        if now > deadline or (now - last_change > 120 and not queue_busy()) or now - last_change > 600:
            print(
                f"  giving up: {sink.messages:,} of {expected:,} mails after {now - started:.0f}s", flush=True
            )
            return
        if any(w.poll() is not None for w in workers):
            print("  a worker exited", flush=True)
            return
        if now >= next_report:
            rate = sink.messages / (now - started)
            print(
                f"  +{now - started:6.1f}s {sink.messages:>9,} mails at the sink ({rate:,.0f}/s)", flush=True
            )
            next_report = now + 30
        time.sleep(0.1)


def cancel_and_deliver(event, token: str, url: str, sink: Sink, workers, args) -> dict:
    from django_tasks_db.models import DBTaskResult

    from registrations.models import Mail, MailFanOut, Registration

    expected = {
        e.lower() for e in Registration.objects.filter(event=event).values_list("user__email", flat=True)
    }
    cpu_before = {w.pid: pid_cpu(w.pid) for w in workers}
    pg_before, own_before = postgres_cpu(), own_cpu()
    started, started_wall = time.perf_counter(), time.time()
    response = requests.post(
        f"{url}/api/v1/events/{event.pk}/cancel",
        headers={**HTTPS, "Authorization": f"Bearer {token}"},
        timeout=300,
    )
    request_time = time.perf_counter() - started
    body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
    print(f"  POST /api/v1/events/{{id}}/cancel: {response.status_code} in {request_time:.2f}s", flush=True)
    ok_response = (
        response.status_code == 200 and body.get("id") == str(event.pk) and body.get("status") == "cancelled"
    )
    if response.status_code == 200:
        wait_for_mails(sink, len(expected), started, args.timeout, workers)
    cpu_workers = sum(pid_cpu(w.pid) - cpu_before[w.pid] for w in workers)
    cpu_pg, cpu_own = postgres_cpu() - pg_before, own_cpu() - own_before
    fan_out = MailFanOut.objects.filter(event=event).first()
    # Above EVENT_CANCEL_INLINE_MAX the registrations are a worker's UPDATE.
    cancel_task = DBTaskResult.objects.filter(task_path__endswith=".cancel_registrations_of_event").first()
    registrations = Counter(
        Registration.objects.filter(event=event).values_list("status", "cancel_reason").order_by()
    )
    received = set(sink.recipients)
    return {
        "status": response.status_code,
        "ok_response": ok_response,
        "body": body if not ok_response else None,
        "request_time": request_time,
        "cancelled": registrations[("cancelled", "event_cancelled")],
        "cancel_task": (cancel_task.started_at, cancel_task.finished_at) if cancel_task else None,
        "cancel_task_done": (cancel_task.finished_at.timestamp() - started_wall)
        if cancel_task and cancel_task.finished_at
        else None,
        "registrations": dict(registrations),
        "fan_out_time": (fan_out.done_at - fan_out.created_at).total_seconds()
        if fan_out and fan_out.done_at
        else None,
        "first": (sink.first - started) if sink.first else None,
        "last": (sink.last - started) if sink.last else None,
        "messages": sink.messages,
        "expected": len(expected),
        "distinct": len(received),
        "duplicates": sum(n - 1 for n in sink.recipients.values() if n > 1),
        "duplicate_ids": sum(n - 1 for n in sink.message_ids.values() if n > 1),
        "missing": len(expected - received),
        "unexpected": len(received - expected),
        "subjects": {s.decode(errors="replace"): n for s, n in sink.subjects.items()},
        "mail_rows": dict(Counter(Mail.objects.values_list("status", flat=True).order_by())),
        "tasks": dict(
            Counter(DBTaskResult.objects.values_list("task_path", "status").order_by()).most_common()
        ),
        "cpu_workers": cpu_workers,
        "cpu_pg": cpu_pg,
        "cpu_own": cpu_own,
    }


# --- Main -----------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--registrations", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2, help="task workers (manage.py run_worker)")
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--small", type=int, default=1_000, help="the admin pages' smaller size too")
    parser.add_argument("--rounds", type=int, default=5, help="requests per admin page (median shown)")
    parser.add_argument(
        "--other", type=int, default=1_000, help="registrations of another event (not cancelled)"
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for the mails")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run on PostgreSQL: bash scripts/with-postgres.sh .venv/bin/python bench/cancel_bench.py")

    from rest_framework_simplejwt.tokens import AccessToken

    setup_test_environment()  # the test client's host (testserver) allowed
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    failures: list[str] = []
    log_dir = Path(tempfile.mkdtemp(prefix="cancel-bench-"))
    try:
        with ExitStack() as stack:
            from django.utils import timezone

            from accounts.services import user_create
            from events.models import Event
            from events.services import event_create

            prepare_shared_cache()
            organizer = user_create(
                email="bench-organizer@example.org", password=None, full_name="Organizer", roles=["organizer"]
            )
            admin = user_create(
                email="bench-admin@example.org", password=ADMIN_PASSWORD, full_name="Admin", roles=["admin"]
            )
            start = timezone.now() + timezone.timedelta(days=7)
            event, other = (
                event_create(
                    organizer=organizer,
                    title=title,
                    start_at=start,
                    end_at=start + timezone.timedelta(hours=3),
                    capacity=10_000_000,
                    status=Event.Status.PUBLISHED,
                )
                for title in ("Benchmark", "Another event")
            )
            # Registrations of another event: the registration list's event
            # filter (RelatedOnlyFieldListFilter) applies only when the rows
            # span two events or more (Django drops a one-choice filter).
            grow_to(other, 0, args.other, first_user=50_000_000)
            connection.close()
            url = stack.enter_context(
                gunicorn(workers=args.gunicorn_workers, env=server_env(), log_dir=log_dir)
            )
            sink, smtp_port = start_sink(stack)
            workers = start_workers(stack, args.workers, smtp_port, log_dir)
            wait_for_workers(workers, log_dir)
            print(
                f"PostgreSQL, gunicorn {args.gunicorn_workers} sync workers, {args.workers} task workers "
                f"(interval 0.2s), SMTP sink on 127.0.0.1:{smtp_port}, {os.cpu_count()} cores; logs in {log_dir}",
                flush=True,
            )

            client = Client()
            if not client.login(username=admin.email, password=ADMIN_PASSWORD):
                sys.exit("the admin could not log in (test client)")
            headers = gunicorn_admin_login(url, admin.email)
            admin_rows, have = [], 0
            for size in sorted({min(args.small, args.registrations), args.registrations}):
                started = time.perf_counter()
                grow_to(event, have, size)
                have = size
                print(f"{size:,} registrations ready in {time.perf_counter() - started:.1f}s", flush=True)
                admin_rows += measure_admin(event, size, client, url, headers, args.rounds)
            sizes = sorted({row["size"] for row in admin_rows})
            for page in {row["page"] for row in admin_rows}:
                counts = {q for row in admin_rows if row["page"] == page for q in row["queries"]}
                if len(counts) != 1:
                    print(f"  note: {page} ran {sorted(counts)} queries across {sizes}", flush=True)

            print(f"cancelling the event ({have:,} confirmed registrations)", flush=True)
            result = cancel_and_deliver(event, str(AccessToken.for_user(organizer)), url, sink, workers, args)
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)

    if result["status"] != 200:
        failures.append(f"the cancel answered {result['status']}")
    elif not result["ok_response"]:
        failures.append(f"the cancel's body is not the cancelled event: {result['body']}")
    if result["cancelled"] != have:
        failures.append(f"{result['cancelled']:,} registrations cancelled, not {have:,}")
    if result["messages"] != have or result["distinct"] != have or result["missing"] or result["unexpected"]:
        failures.append("not every attendee got exactly one mail")
    if result["duplicates"] or result["duplicate_ids"]:
        failures.append(f"{result['duplicates']:,} duplicate mails")
    if result["mail_rows"] != {"sent": have}:
        failures.append(f"Mail rows not all sent: {result['mail_rows']}")
    if any(status != "SUCCESSFUL" for (_, status) in result["tasks"]):
        failures.append(f"tasks not all successful: {result['tasks']}")
    if set(result["subjects"]) != {"Event cancelled: Benchmark"}:
        failures.append(f"unexpected subjects: {result['subjects']}")
    print_summary(args, admin_rows, result, have)
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("\nall checks passed")


def print_summary(args, admin_rows: list[dict], r: dict, have: int) -> None:
    def secs(value: float | None) -> str:
        return f"+{value:.2f} s" if value is not None else "-"

    mails = max(r["messages"], 1)
    print(f"\n=== summary: {have:,} registrations, {args.workers} task workers, {os.cpu_count()} cores ===")
    rows = [
        ("cancel request (POST /api/v1/events/{id}/cancel)", f"{r['request_time']:.2f} s, HTTP {r['status']}"),
        ("registrations cancelled (one UPDATE)", f"{r['cancelled']:,}"),
        ("... by a worker's UPDATE, done after the request", "in the request" if r["cancel_task"] is None
         else secs(r["cancel_task_done"]) + (f" (the UPDATE: {(r['cancel_task'][1] - r['cancel_task'][0]).total_seconds():.2f} s)"
                                              if r["cancel_task"][1] else "")),
        ("fan-out task done (Mail rows written)", f"{r['fan_out_time']:.2f} s after it was queued"
         if r["fan_out_time"] is not None else "not done"),
        ("first mail at the sink, after the request", secs(r["first"])),
        ("last mail at the sink, after the request", secs(r["last"])),
        ("mails delivered / expected", f"{r['messages']:,} / {r['expected']:,}"),
        ("distinct recipients / duplicates / missing", f"{r['distinct']:,} / {r['duplicates']:,} / {r['missing']:,}"),
        ("duplicate Message-IDs / unexpected recipients", f"{r['duplicate_ids']:,} / {r['unexpected']:,}"),
        ("mails/s (request to last mail)", f"{r['messages'] / r['last']:,.0f}" if r["last"] else "-"),
        ("CPU ms per mail: workers / PostgreSQL / sink", f"{r['cpu_workers'] * 1000 / mails:.2f} / "
         f"{r['cpu_pg'] * 1000 / mails:.2f} / {r['cpu_own'] * 1000 / mails:.2f}"),
        ("Mail rows by status", str(r["mail_rows"])),
        ("tasks (path, status): count", ", ".join(f"{p.rsplit('.', 1)[1]} {s}: {n:,}"
                                                  for (p, s), n in r["tasks"].items())),
    ]  # fmt: skip
    for label, value in rows:
        print(f"{label:<52} {value}")
    print(f"\n{'admin page':<34} {'registrations':>13} {'queries':>8} {'in-process':>11} {'gunicorn':>10} "
          f"{'slowest SQL':>12}")  # fmt: skip
    for row in admin_rows:
        print(
            f"{row['page']:<34} {row['size']:>13,} {'/'.join(map(str, row['queries'])):>8} "
            f"{row['median'] * 1000:>8.1f} ms {row['gunicorn'] * 1000:>7.1f} ms {row['slowest'][0] * 1000:>9.1f} ms"
        )
    print("(medians of", args.rounds, "requests each; queries counted in-process with CaptureQueriesContext)")
    for row in admin_rows:
        if row["size"] == have:
            print(f"slowest SQL of {row['page']} at {have:,}: {row['slowest'][1][:400]}")


if __name__ == "__main__":
    main()
