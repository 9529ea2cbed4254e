"""Real task workers (``python manage.py run_worker``) on the test database,
started and stopped by the test (by pid: SIGTERM, SIGKILL, always waited for).
The test must be ``django_db(transaction=True)``: the workers only see
committed data.

    with worker(worker_env(smtp_port=sink.port)) as w:
        ...
        w.kill()                       # SIGKILL, waited for
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings

from eventmaster.tests.server import BASE_DIR, server_env
from eventmaster.tests.smtp import LOOPBACK


def worker_env(*, smtp_port: int, **extra: Any) -> dict[str, str]:
    """A production worker's environment on the test database, sending to
    the SMTP server on ``smtp_port`` (loopback), with everything timed in
    seconds instead of minutes; ``extra`` overrides any of it."""
    values = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": LOOPBACK,
        "EMAIL_PORT": smtp_port,
        "EMAIL_TIMEOUT": 2,
        "MAIL_RETRY_FIRST_SECONDS": 1,
        "MAIL_RETRY_MAX_SECONDS": 1,
        "TASK_HEARTBEAT_SECONDS": 0.5,
        "TASK_WORKER_DEAD_AFTER": 3,
        "TASK_HOUSEKEEPING_SECONDS": 1,
        **extra,
    }
    return server_env(**{key: str(value) for key, value in values.items()})


class WorkerProcess:
    def __init__(self, env: dict[str, str], *, log_dir: Path | None = None, interval: float = 0.2) -> None:
        self.worker_id = f"test-{uuid.uuid4().hex[:12]}"
        log_dir = log_dir or Path(settings.BASE_DIR) / "test-artifacts"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"worker-{self.worker_id}.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "run_worker",
                    "--no-startup-delay",
                    "--interval",
                    str(interval),
                    "--worker-id",
                    self.worker_id,
                ],
                cwd=BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    def log(self, tail: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:]

    def heartbeat_exists(self) -> bool:
        from eventmaster.models import WorkerHeartbeat

        return WorkerHeartbeat.objects.filter(worker_id=self.worker_id).exists()

    def wait_until_up(self, timeout: float = 60) -> None:
        """Until its heartbeat row is written (it is serving)."""
        deadline = time.monotonic() + timeout
        while not self.heartbeat_exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited early ({self.process.returncode}):\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start in {timeout} s:\n{self.log()}")
            time.sleep(0.05)

    def signal(self, signum: int) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signum)

    def kill(self) -> int:
        """SIGKILL, and wait for it to be gone."""
        self.signal(signal.SIGKILL)
        return self.process.wait(timeout=30)

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM (graceful), and wait for it to exit; its exit status."""
        self.signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        """Whatever happened: SIGTERM, then SIGKILL if it lingers; waited for."""
        if self.process.poll() is None:
            try:
                self.terminate(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def worker(env: dict[str, str], *, wait: bool = True, **kwargs: Any) -> Iterator[WorkerProcess]:
    """A running worker (up: its heartbeat written, unless ``wait=False``),
    stopped and waited for on the way out, also on failure."""
    process = WorkerProcess(env, **kwargs)
    try:
        if wait:
            process.wait_until_up()
        yield process
    finally:
        process.stop()


def wait_until(condition: Callable[[], Any], *, timeout: float, what: str, every: float = 0.1) -> Any:
    """Poll ``condition`` until it returns something true (returned), or
    fail after ``timeout`` seconds saying ``what`` was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)
