"""Helpers shared by every app's tests."""

from contextlib import ExitStack, contextmanager

import psycopg
from django.db import OperationalError, connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken


def client_for(user) -> APIClient:
    """An API client sending ``user``'s access token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    client.user = user
    return client


def assert_error(response, status: int, code: str, attr: str | None = None) -> dict:
    """The response is an error of docs/api.md's shape with ``code`` (and ``attr``)."""
    assert response.status_code == status, (response.status_code, getattr(response, "content", b"")[:500])
    body = response.json()
    expected_type = "validation_error" if status == 400 and attr is not None else None
    assert set(body) == {"type", "errors"}, body
    assert body["type"] in {"validation_error", "client_error", "server_error"}, body
    if expected_type:
        assert body["type"] == expected_type, body
    assert body["errors"], body
    for error in body["errors"]:
        assert set(error) == {"code", "detail", "attr"}, error
    matching = [e for e in body["errors"] if e["code"] == code and (attr is None or e["attr"] == attr)]
    assert matching, f"no error with code={code!r} attr={attr!r} in {body}"
    return body


def db_error(sqlstate: str | None, cls=OperationalError) -> Exception:
    """A Django database error as Django raises it: the driver's own error,
    with its SQLSTATE, as the cause (no SQLSTATE: the connection failed)."""
    cause = (
        psycopg.errors.lookup(sqlstate)("server says no")
        if sqlstate
        else psycopg.OperationalError("server closed the connection unexpectedly")
    )
    exc = cls(str(cause))
    exc.__cause__ = cause
    return exc


@contextmanager
def reads_fail_after(target, name: str):
    """Patch the service ``target.name`` so that once it has returned, every
    SELECT on the connection fails as on a connection that just died (writes
    and savepoint rollbacks still run)."""

    def refuse_reads(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("SELECT"):
            raise db_error(None)
        return execute(sql, params, many, context)

    original = getattr(target, name)
    with ExitStack() as after_the_service:

        def then_reads_fail(*args, **kwargs):
            result = original(*args, **kwargs)
            after_the_service.enter_context(connection.execute_wrapper(refuse_reads))
            return result

        setattr(target, name, then_reads_fail)
        try:
            yield
        finally:
            setattr(target, name, original)


def run_tasks(*, limit: int = 10_000) -> int:
    """Run the background tasks that are due, in this process, as a worker
    would, until none is left (tasks a task queues included); returns how
    many ran. A task's ``run_after`` in the future is not due. Each task's
    on-commit callbacks run as its commit would (the test's transaction
    never commits)."""
    from django.test import TestCase
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    worker = Worker(
        queue_names=["*"], interval=0, batch=True, backend_name="default", startup_delay=False,
        max_tasks=None, worker_id="test", excluded_queue_names=[],
    )  # fmt: skip
    for ran in range(limit):
        with TestCase.captureOnCommitCallbacks(execute=True):
            task = DBTaskResult.objects.ready().first()
            if task is None:
                return ran
            task.claim(worker.worker_id)
            worker.run_task(task)
    raise AssertionError(f"more than {limit} tasks: a task that queues itself forever?")
