"""Benchmark: four API paths, each beside the bare-Django view it compares with, in one run.

    PG_SERVER_OPTIONS="-c shared_buffers=1GB" bash scripts/with-postgres.sh .venv/bin/python bench/api_bench.py
        [--duration 10] [--rounds 3] [--only list,detail,scan,register] [--workers 2 8]

Builds a throwaway PostgreSQL database (221 published, upcoming events with
registrations: one of 100,000, one of 2,000, the rest of 100; 60,000 members,
each with an access token), starts two gunicorns with the same workers, the
API's (bench.settings: the API plus the baselines of bench/urls.py) and a
bare Django project's (bench.settings_bare: startproject's middleware and
DRF's defaults, the baselines alone, as issue #12 measured them), and
drives them with wrk (bench/api.lua) for a fixed
time per run, each group of paths alternating with its baseline for --rounds
rounds: the event list (GET /api/v1/events?limit=20, anonymous) against a
bare DRF ListAPIView of the same events (in the bare project; and, for
comparison, through EventMaster's own stack); an event's detail (GET
/api/v1/events/{id}, anonymous, at 100, 2,000 and 100,000 registrations) and
door scans (POST /api/v1/checkin, never-scanned tickets of the
100,000-registration event, each with a nonce) against the one-SELECT view
(in the bare project; and through EventMaster's stack, for comparison);
registrations (POST /api/v1/events/{id}/registrations, each request a
different member with a token of their own) on one hot event and spread over
100 events, against the one-SELECT view, with each --workers count (the
other groups run with the first). Every answer's status is checked (any but
the expected one fails the run), and so are the scan log and the
registrations written. Prints medians: requests per second, p50 and p99
latency, CPU time per request of gunicorn and of PostgreSQL (this cluster
only; steadier than requests per second on a shared machine), each path's
requests per second and CPU per request over its baseline's, and for
registrations the sessions seen waiting for a lock (sampled every 100 ms).
wrk runs with 2 threads and 16 connections; the whole run takes about 9
minutes on 2 cores.
"""

import argparse
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("RATELIMIT_ENABLE", "false")
# The members' tokens must outlive the run.
os.environ.setdefault("ACCESS_TOKEN_MINUTES", "600")

# Importing checkin_bench sets up Django.
from checkin_bench import ensure_wrk, fresh_tickets, grow
from cpu import parent_of, tree_cpu
from django.db import connection
from django.utils import timezone

SCRIPT = ROOT / "bench" / "api.lua"
SMALL_EVENT_REGISTRATIONS = 100
SPREAD_EVENTS = 100
LIST_EVENTS = 221
KINDS_OF_PATH = ("list", "detail", "scan", "register")


@dataclass
class Pool:
    """Items used once each (tickets to scan, members to register): a file,
    one a line, and the first line no run has used yet."""

    path: Path
    size: int
    next: int = 0
    # Appends n items to the file and returns how many it has (None: no more to be had).
    top_up: Callable[[int], int] | None = None

    def ensure(self, count: int, what: str) -> None:
        missing = count - (self.size - self.next)
        if missing <= 0:
            return
        if self.top_up is None:
            sys.exit(f"FAILED: out of {what}: {self.size - self.next} left, a run may need {count}")
        self.size = self.top_up(missing)


@dataclass
class Kind:
    """One kind of request of a group: what bench/api.lua sends, the status
    every answer must have, and its results, a dict per round."""

    name: str
    env: dict
    expect: int
    pool: Pool | None = None
    watch_locks: bool = False  # sample the sessions waiting for a lock
    server: str = "api"  # or "bare": the bare Django project of bench/settings_bare.py
    runs: list = field(default_factory=list)  # measured
    warm: list = field(default_factory=list)  # warm-up

    def answered(self) -> int:
        return sum(run["requests"] for run in self.runs + self.warm)

    def median(self, key: str) -> float:
        return statistics.median(run[key] for run in self.runs)


def run_wrk(wrk: str, kind: Kind, servers: dict, args, duration: int, postmaster: int) -> dict:
    url, gunicorn = servers[kind.server]
    cpu = {"gunicorn": gunicorn, "postmaster": postmaster}
    env = {**os.environ, **kind.env, "WRK_THREADS": str(args.threads)}
    if kind.pool is not None:
        rate = max((run["rps"] for run in kind.runs + kind.warm), default=1000)
        kind.pool.ensure(int(rate * duration * 1.5) + 1000, kind.name)
        env.update(START=str(kind.pool.next), RUN=str(secrets.randbelow(0xFFF)))
    lock_waits, stop = [], threading.Event()
    watcher = threading.Thread(target=watch_lock_waits, args=(stop, lock_waits)) if kind.watch_locks else None
    app_before, pg_before = tree_cpu(cpu["gunicorn"]), tree_cpu(cpu["postmaster"])
    if watcher is not None:
        watcher.start()
    try:
        out = subprocess.run(
            [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}s", "--timeout", "20s",
             "--latency", "-s", str(SCRIPT), url],
            env=env, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        stop.set()
        if watcher is not None:
            watcher.join()
    app_cpu, pg_cpu = tree_cpu(cpu["gunicorn"]) - app_before, tree_cpu(cpu["postmaster"]) - pg_before

    def latency(pct: str) -> float:
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    done = int(re.search(r"(\d+) requests in", out).group(1))
    statuses = Counter({int(code): int(n) for code, n in re.findall(r"^status (\d+) (\d+)$", out, re.M)})
    socket_errors = re.search(r"Socket errors: (.*)$", out, re.M)
    if kind.pool is not None:
        kind.pool.next = max(kind.pool.next, int(re.search(r"^next (\d+)$", out, re.M).group(1)))
    unexpected = {code: n for code, n in statuses.items() if code != kind.expect}
    if unexpected or sum(statuses.values()) != done or done == 0:
        sys.exit(
            f"FAILED: {kind.name}: {done} requests, statuses {dict(statuses)} (every one must be "
            f"{kind.expect}){'; socket errors ' + socket_errors.group(1) if socket_errors else ''}\n{out}"
        )
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": done,
        # CPU milliseconds per request: gunicorn (its workers), PostgreSQL.
        "app_ms": app_cpu * 1000 / done,
        "pg_ms": pg_cpu * 1000 / done,
        "p50": latency("50"),
        "p99": latency("99"),
        "socket_errors": socket_errors.group(1) if socket_errors else "",
        # Sessions waiting for a lock (the hot event's row): mean per sample, and
        # the share of samples with at least one.
        "lock_waiting": statistics.mean(lock_waits) if lock_waits else None,
        "lock_share": sum(1 for n in lock_waits if n) / len(lock_waits) if lock_waits else None,
    }


def watch_lock_waits(stop: threading.Event, samples: list) -> None:
    """Count, every 100 ms until ``stop``, the sessions of this database
    waiting for a lock (in a connection of this thread's own)."""
    from django.db import connection as own

    try:
        while not stop.wait(0.1):
            with own.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
                samples.append(cursor.fetchone()[0])
    finally:
        own.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(workers: int, settings: str = "bench.settings") -> tuple[subprocess.Popen, str]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
    }
    port = free_port()
    log = open(Path(tempfile.gettempdir()) / f"api-bench-gunicorn-{port}.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "eventmaster.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--no-control-socket", "--access-logfile", "/dev/null"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        if process.poll() is not None:
            break
        try:
            if requests.get(f"{url}/bench/select", timeout=2).status_code == 200:
                return process, url
        except requests.RequestException:
            pass
        time.sleep(0.2)
    stop_server(process)
    sys.exit(f"gunicorn did not start; see {log.name}")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- Data -------------------------------------------------------------------


def add_registrations(event_ids: list, users: list) -> None:
    """Every one of ``users`` registered (confirmed) for every event, by SQL."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO registrations_registration (id, event_id, user_id, status, ticket_code, created_at)
            SELECT gen_random_uuid(), e, u, 'confirmed',
                   replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', ''), now()
            FROM unnest(%s::uuid[]) e, unnest(%s::uuid[]) u
            """,
            [[str(pk) for pk in event_ids], [str(pk) for pk in users]],
        )


class Members:
    """Signed-up members (in the ``member`` group), made by SQL, each with an
    access token, one a line of a file (bench/api.lua sends line n as the
    n-th registration's caller)."""

    def __init__(self, path: Path) -> None:
        from django.contrib.auth.models import Group

        from eventmaster.roles import Role

        self.path, self.made = path, 0
        self.group = Group.objects.get_or_create(name=Role.MEMBER)[0].pk
        path.write_text("")

    def make(self, count: int) -> int:
        """``count`` more members; returns how many there are."""
        from rest_framework_simplejwt.tokens import AccessToken

        from accounts.models import User

        with connection.cursor() as cursor:
            cursor.execute(
                """
                WITH u AS (
                    INSERT INTO accounts_user (id, password, is_superuser, email, full_name, is_active, is_staff, date_joined)
                    SELECT gen_random_uuid(), '!', false, 'member' || g || '@example.org', 'Member ' || g, true, false, now()
                    FROM generate_series(%s::integer, %s::integer) g
                    RETURNING id
                )
                INSERT INTO accounts_user_groups (user_id, group_id) SELECT u.id, %s FROM u RETURNING user_id
                """,
                [self.made, self.made + count - 1, self.group],
            )
            ids = [row[0] for row in cursor.fetchall()]
        with self.path.open("a") as tokens:
            tokens.writelines(f"{AccessToken.for_user(User(id=pk))}\n" for pk in ids)
        self.made += count
        return self.made


@dataclass
class Data:
    organizer_token: str
    big: object  # 100,000 registrations: detail, scans
    medium: object  # 2,000: detail
    small: object  # 100: detail
    hot: object  # registrations on one event
    spread: list  # registrations over these
    tickets: Pool  # never-scanned tickets of ``big``
    select_tickets: Path  # tickets the one-SELECT view looks up
    members: Pool  # members who registered for nothing yet


def build(args, workdir: Path) -> Data:
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.services import user_create
    from events.models import Event
    from events.services import event_create
    from registrations.services import event_counts_refresh

    started = time.perf_counter()
    organizer = user_create(
        email="bench-organizer@example.org", password=None, full_name="Bench Organizer", roles=["organizer"]
    )
    now = timezone.now()

    def event(n: int, title: str) -> Event:
        start = now + timezone.timedelta(days=1, hours=n)
        return event_create(
            organizer=organizer, title=f"{title} {n}", location="Community Hall, Main Street 1",
            description=f"<p>{title} {n}: talks, people and <b>snacks</b>. Doors open half an hour early.</p>",
            start_at=start, end_at=start + timezone.timedelta(hours=3),
            capacity=1_000_000, status=Event.Status.PUBLISHED,
        )  # fmt: skip

    big, medium, hot = event(0, "Big"), event(1, "Medium"), event(2, "Hot")
    spread = [event(3 + n, "Spread") for n in range(SPREAD_EVENTS)]
    others = [event(3 + SPREAD_EVENTS + n, "Other") for n in range(LIST_EVENTS - 3 - SPREAD_EVENTS)]
    grow(big.pk, 100_000, 0)
    grow(medium.pk, 2_000, 100_000)
    # The same 100 attendees on every other event (the spread ones included).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM accounts_user WHERE email LIKE 'bench%%' ORDER BY email LIMIT %s",
            [SMALL_EVENT_REGISTRATIONS],
        )
        attendees = [row[0] for row in cursor.fetchall()]
    add_registrations([e.pk for e in [hot, *spread, *others]], attendees)
    event_counts_refresh(events=Event.objects.all())
    tickets = workdir / "tickets.txt"
    pool = Pool(tickets, fresh_tickets(big.pk, 200_000, tickets))
    select_tickets = workdir / "select-tickets.txt"
    fresh_tickets(big.pk, 20_000, select_tickets)
    members = Members(workdir / "tokens.txt")
    members_pool = Pool(members.path, members.make(args.members), top_up=members.make)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"data ready in {time.perf_counter() - started:.0f}s: {Event.objects.count()} published events, "
        f"{args.members:,} members with tokens",
        flush=True,
    )
    return Data(
        organizer_token=str(AccessToken.for_user(organizer)), big=big, medium=medium, small=others[0],
        hot=hot, spread=spread, tickets=pool, select_tickets=select_tickets, members=members_pool,
    )  # fmt: skip


def check_content(url: str, data: Data) -> None:
    """The pages say what the data says (a wrong page measured fast is no result)."""

    def get(path: str) -> dict:
        answer = requests.get(f"{url}{path}", headers={"X-Forwarded-Proto": "https"}, timeout=10)
        if answer.status_code != 200:
            sys.exit(f"FAILED: GET {path}: {answer.status_code} {answer.text[:500]}")
        return answer.json()

    page, bare = get("/api/v1/events?limit=20"), get("/bench/events?limit=20")
    if not (
        page["total"] == LIST_EVENTS == bare["count"]
        and len(page["items"]) == 20 == len(bare["results"])
        and set(page["items"][0]) == set(bare["results"][0])
    ):
        sys.exit(f"FAILED: the lists differ: {page['total']} / {bare['count']} events, fields "
                 f"{sorted(page['items'][0])} / {sorted(bare['results'][0])}")  # fmt: skip
    for event, registered in ((data.small, 100), (data.medium, 2_000), (data.big, 100_000)):
        if (found := get(f"/api/v1/events/{event.pk}")["registered_count"]) != registered:
            sys.exit(f"FAILED: event {event.pk}: registered_count {found}, {registered} expected")


# --- Measuring ----------------------------------------------------------------


def measure(wrk: str, servers: dict, args, title: str, kinds: list[Kind], postmaster: int) -> list[dict]:
    """Run ``kinds`` in turn, ``args.rounds`` times (after a short warm-up
    run of each); kinds[0] is the baseline of the others."""
    print(f"\n{title}", flush=True)
    for kind in kinds:  # workers, connections, caches and prepared statements warm
        kind.warm.append(run_wrk(wrk, kind, servers, args, 2, postmaster))
    for _ in range(args.rounds):  # alternate, so drift on a shared machine hits all alike
        for kind in kinds:
            kind.runs.append(run_wrk(wrk, kind, servers, args, args.duration, postmaster))
    base = kinds[0]
    rows = []
    for kind in kinds:
        row = {
            "group": title, "kind": kind.name, "baseline": base.name,
            **{key: kind.median(key) for key in ("rps", "p50", "p99", "app_ms", "pg_ms")},
            "requests": sum(run["requests"] for run in kind.runs),
            "errors": sorted({run["socket_errors"] for run in kind.runs if run["socket_errors"]}),
            "lock_waiting": kind.median("lock_waiting") if kind.watch_locks else None,
            "lock_share": kind.median("lock_share") if kind.watch_locks else None,
        }  # fmt: skip
        row["ratio"] = row["rps"] / base.median("rps")
        row["cpu_ratio"] = (row["app_ms"] + row["pg_ms"]) / (base.median("app_ms") + base.median("pg_ms"))
        rows.append(row)
        print(format_row(row, kind is base), flush=True)
    return rows


HEADER = (
    f"{'':<50} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} | {'CPU ms/request':>21} | {'req/s':>5} {'CPU':>5}\n"
    f"{'':<50} {'':>7} {'':>7} {'':>7} | {'gunicorn + PostgreSQL':>21} | {'÷ baseline':>11}"
)


def format_row(row: dict, baseline: bool = False) -> str:
    ratios = f"{'base':>5} {'line':>5}" if baseline else f"{row['ratio']:5.2f} {row['cpu_ratio']:5.2f}"
    errors = f"  socket errors: {'; '.join(row['errors'])}" if row["errors"] else ""
    if row["lock_waiting"] is not None:
        errors = (
            f"  lock waits: {row['lock_waiting']:.2f} sessions, in {row['lock_share']:.0%} of samples{errors}"
        )
    return (
        f"{row['kind']:<50} {row['rps']:7.0f} {row['p50']:7.2f} {row['p99']:7.2f} | "
        f"{row['app_ms']:6.2f} + {row['pg_ms']:4.2f} = {row['app_ms'] + row['pg_ms']:5.2f} | {ratios}{errors}"
    )


def select_kind(data: Data, server: str = "bare") -> Kind:
    name = "one-SELECT view, bare Django" if server == "bare" else "one-SELECT view, EventMaster's stack"
    return Kind(name, {"MODE": "select", "TICKETS": str(data.select_tickets)}, 200, server=server)


def unanswered_at_most(args, kinds: list[Kind]) -> int:
    """Requests still in flight when wrk stops are done by the server but
    not counted by wrk: at most one per connection per run."""
    return args.connections * sum(len(kind.runs + kind.warm) for kind in kinds)


def settle(count: Callable[[], int]) -> None:
    """Wait until the server has done the requests wrk left in flight (and
    in the listen queue) when it stopped: ``count`` stops moving and no
    other session of the database is busy."""
    busy = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND state <> 'idle'"
    )
    before = count()
    for _ in range(60):
        time.sleep(0.5)
        with connection.cursor() as cursor:
            cursor.execute(busy)
            active = cursor.fetchone()[0]
        if (now := count()) == before and not active:
            return
        before = now
    sys.exit("FAILED: the server is still writing 30 s after wrk stopped")


def check_scans(args, since: int, kind: Kind) -> None:
    from checkin.models import Scan

    settle(Scan.objects.filter(id__gt=since).count)
    results = Counter(Scan.objects.filter(id__gt=since).values_list("result", flat=True))
    answered = kind.answered()
    print(f"scan log: {dict(results)} ({answered} answered 200 in the measured and warm-up runs)", flush=True)
    if set(results) != {"ok"} or not 0 <= results["ok"] - answered <= unanswered_at_most(args, [kind]):
        sys.exit("FAILED: the scan log does not match the answers")


def check_registrations(args, data: Data, since, kinds: list[Kind]) -> None:
    from events.models import Event
    from registrations.models import Mail, Registration
    from registrations.selectors import event_counts_drift

    events = [data.hot.pk, *(e.pk for e in data.spread)]
    settle(Registration.objects.filter(event_id__in=events, created_at__gte=since).count)
    made = Counter(
        Registration.objects.filter(event_id__in=events, created_at__gte=since).values_list(
            "status", flat=True
        )
    )
    answered = sum(kind.answered() for kind in kinds)
    mails = Mail.objects.filter(registration__event_id__in=events, created_at__gte=since).count()
    drift = event_counts_drift(events=Event.objects.filter(pk__in=events))
    ok = (
        set(made) == {"confirmed"}
        and 0 <= made["confirmed"] - answered <= unanswered_at_most(args, kinds)
        and mails == made["confirmed"]
    )
    print(f"registrations written: {dict(made)} ({answered} answered 201 in the measured and warm-up runs),"
          f" {mails} mails queued, counter drift {drift or 'none'}", flush=True)  # fmt: skip
    if not ok or drift:
        sys.exit("FAILED: registrations written do not match the answers")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (medians are shown)")
    parser.add_argument(
        "--only", default=",".join(KINDS_OF_PATH), help="comma-separated: list,detail,scan,register"
    )
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[2, 8],
        help="gunicorn workers: registrations run with each, the other paths with the first",
    )  # fmt: skip
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--members", type=int, default=60_000, help="members made up front (more if needed)")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if not only <= set(KINDS_OF_PATH):
        parser.error(f"--only takes some of {','.join(KINDS_OF_PATH)}")
    if connection.vendor != "postgresql":
        sys.exit("Run on PostgreSQL: bash scripts/with-postgres.sh .venv/bin/python bench/api_bench.py")
    wrk = ensure_wrk()

    from django.test.utils import setup_test_environment

    setup_test_environment()
    began = time.perf_counter()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    server = bare = None
    workdir = Path(tempfile.mkdtemp(prefix="api-bench-"))
    try:
        data = build(args, workdir)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            postmaster = parent_of(cursor.fetchone()[0])
        print(f"PostgreSQL cluster pid {postmaster}; wrk {args.threads} threads x {args.connections} "
              f"connections; {args.rounds} x {args.duration}s per kind; {os.cpu_count()} cores", flush=True)  # fmt: skip
        rows = []
        plans = [(w, {"register"} & only) for w in args.workers]
        plans[0] = (args.workers[0], plans[0][1] | ({"list", "detail", "scan"} & only))
        for workers, paths in plans:
            if not paths:
                continue
            server, url = start_server(workers)
            bare, bare_url = start_server(workers, "bench.settings_bare")
            servers = {"api": (url, server.pid), "bare": (bare_url, bare.pid)}
            print(
                f"\n=== gunicorn {workers} workers (and a bare Django project's, for the baselines) ===",
                flush=True,
            )
            get = {"MODE": "get"}
            if "list" in paths:
                check_content(url, data)
                bare_list = {**get, "TARGET": "/bench/events?limit=20"}
                rows += measure(wrk, servers, args, f"event list, page of 20 ({workers} workers)", [
                    Kind("bare DRF ListAPIView (page of 20), bare Django", bare_list, 200, server="bare"),
                    Kind("bare DRF ListAPIView, EventMaster's stack", bare_list, 200),
                    Kind("GET /api/v1/events?limit=20", {**get, "TARGET": "/api/v1/events?limit=20"}, 200),
                ], postmaster)  # fmt: skip
            if {"detail", "scan"} & paths:
                from checkin.models import Scan

                kinds = [select_kind(data), select_kind(data, "api")]
                if "detail" in paths:
                    for event, size in (
                        (data.small, "100 registrations"),
                        (data.medium, "2,000"),
                        (data.big, "100,000"),
                    ):
                        target = f"/api/v1/events/{event.pk}"
                        kinds.append(Kind(f"GET /api/v1/events/{{id}} ({size})", {**get, "TARGET": target}, 200))  # fmt: skip
                if "scan" in paths:
                    scan_env = {"MODE": "scan", "TICKETS": str(data.tickets.path), "EVENT_ID": str(data.big.pk),
                                "TOKEN": data.organizer_token}  # fmt: skip
                    kinds.append(Kind("POST /api/v1/checkin (100,000)", scan_env, 200, data.tickets))
                last_scan = Scan.objects.order_by("-id").values_list("id", flat=True).first() or 0
                rows += measure(
                    wrk, servers, args, f"event detail and door scan ({workers} workers)", kinds, postmaster
                )
                if "scan" in paths:
                    check_scans(args, last_scan, kinds[-1])
            if "register" in paths:
                since = timezone.now()
                path = "POST /api/v1/events/{id}/registrations"
                register = {"MODE": "register", "TOKENS": str(data.members.path)}
                kinds = [
                    select_kind(data),
                    Kind(f"{path}, hot", {**register, "EVENTS": str(data.hot.pk)}, 201, data.members, True),
                    Kind(f"{path}, {SPREAD_EVENTS} events",
                         {**register, "EVENTS": ",".join(str(e.pk) for e in data.spread)}, 201, data.members, True),
                ]  # fmt: skip
                rows += measure(wrk, servers, args, f"registration ({workers} workers)", kinds, postmaster)
                check_registrations(args, data, since, kinds[1:])
            stop_server(server)
            stop_server(bare)
            server = bare = None
        print(f"\nAll results (medians of {args.rounds} rounds of {args.duration}s; ratios are path ÷ the "
              f"group's baseline, its first row)\n{HEADER}")  # fmt: skip
        group = None
        for row in rows:
            if row["group"] != group:
                group = row["group"]
                print(f"-- {group}")
            print(format_row(row, row["kind"] == row["baseline"]))
        print(f"\ntotal run time {time.perf_counter() - began:.0f}s", flush=True)
    finally:
        for process in (server, bare):
            if process is not None:
                stop_server(process)
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()


if __name__ == "__main__":
    main()
