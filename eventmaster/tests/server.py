"""Real gunicorn processes serving the current test database.

Used by the tests that must cross process boundaries (shared rate-limit
counters, concurrency). The test must be ``django_db(transaction=True)`` so
its data is committed and visible to the servers.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

import requests
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

BASE_DIR = Path(settings.BASE_DIR)
DB_CACHE = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "eventmaster_cache"}


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(**extra: str) -> dict[str, str]:
    """The environment of a production process on the test database."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DJANGO_SETTINGS_MODULE="eventmaster.settings",
        DATABASE_URL=_database_url(),
        DEBUG="false",
        SECRET_KEY=settings.SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        PYTHONUNBUFFERED="1",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
    )
    env.update(extra)
    return env


def prepare_shared_cache() -> None:
    """The production cache is the database cache table: create it in the
    test database and empty it."""
    with override_settings(CACHES={"default": DB_CACHE}):
        call_command("createcachetable", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM eventmaster_cache")


@contextmanager
def gunicorn(*, workers: int = 2, env: dict[str, str] | None = None, log_dir: Path | None = None):
    """Start one gunicorn master with ``workers``; yield its base URL."""
    port = _free_port()
    log_path = (log_dir or Path(settings.BASE_DIR) / "test-artifacts") / f"gunicorn-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "eventmaster.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--graceful-timeout",
                "5",
                "--timeout",
                "60",
                # Several masters run side by side: no shared control socket.
                "--no-control-socket",
            ],
            cwd=BASE_DIR,
            env=env or server_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, process, log_path)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(base_url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited early:\n{log_path.read_text()[-3000:]}")
        try:
            if requests.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass  # not listening yet, or no worker booted yet to answer
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not become ready:\n{log_path.read_text()[-3000:]}")


@contextmanager
def gunicorn_cluster(count: int, **kwargs):
    """``count`` separate gunicorn masters on the same database."""
    with ExitStack() as stack:
        yield [stack.enter_context(gunicorn(**kwargs)) for _ in range(count)]


def fire_at_once(calls: list, timeout: float = 120) -> list:
    """Run the callables in parallel threads, released together by a
    barrier (races only show when requests really overlap); return their
    results in order. Each call gets its own thread and HTTP connection."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(timeout=timeout)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [future.result(timeout=timeout) for future in [pool.submit(run, call) for call in calls]]


def bearer(user) -> dict[str, str]:
    """Headers of an API call by ``user`` behind the TLS proxy."""
    from rest_framework_simplejwt.tokens import RefreshToken

    return {
        "Authorization": f"Bearer {RefreshToken.for_user(user).access_token}",
        "X-Forwarded-Proto": "https",
    }


def installed(command: str, package: str) -> str | None:
    """The path of ``command``, installed from Debian's packages with apt-get
    when it is missing and this process may (root); None if it cannot be."""
    found = shutil.which(command)
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        for step in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", package]):
            subprocess.run(step, capture_output=True, timeout=900, check=False)
        found = shutil.which(command)
    return found


@contextmanager
def redis_server():
    """A throwaway Redis on a free loopback port, nothing saved to disk;
    yields its URL (REDIS_URL). Raises LookupError without redis-server."""
    with redis_process() as (url, _process):
        yield url


@contextmanager
def redis_process():
    """``redis_server``, yielding (url, the server's Popen) for tests that
    stop or freeze it."""
    executable = installed("redis-server", "redis-server")
    if executable is None:
        raise LookupError(
            "redis-server is not installed and could not be (Debian: apt-get install redis-server)"
        )
    port = _free_port()
    process = subprocess.Popen(
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0", process
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)  # in case a test froze it
            process.terminate()
        process.wait(timeout=15)


def _postgres_bin() -> Path:
    candidates = [Path(shutil.which("initdb") or "/nonexistent/initdb").parent]
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for directory in candidates:
        if all((directory / tool).exists() for tool in ("initdb", "pg_ctl", "postgres")):
            return directory
    raise LookupError("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found")


INITDB_OPTIONS = ("-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")


class PostgresCluster:
    """A throwaway PostgreSQL cluster that a test may stop, start and
    restart (the suite's own database must never go down under it)."""

    def __init__(self, directory: Path):
        self.bin = _postgres_bin()
        self.directory = directory
        self.port = _free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        # initdb refuses root: run the server tools as the postgres user.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [*self._as, str(self.bin / "pg_ctl"), "-D", str(self.directory / "data"), *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def init(self) -> None:
        if self._as:
            shutil.chown(self.directory, user="postgres")
        subprocess.run(
            [*self._as, str(self.bin / "initdb"), "-D", str(self.directory / "data"), *INITDB_OPTIONS],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        self._pg_ctl("-l", str(self.directory / "server.log"), "-w", "-t", "60", "start", "-o", options)

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-m", mode, "-w", "stop")

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()


@contextmanager
def postgres_cluster():
    """A fresh cluster on a free loopback port, always stopped and removed."""
    with tempfile.TemporaryDirectory(prefix="eventmaster-fault-pg-") as tmp:
        cluster = PostgresCluster(Path(tmp))
        cluster.init()
        cluster.start()
        try:
            yield cluster
        finally:
            with suppress(subprocess.SubprocessError):
                cluster.stop("immediate")
