"""Schemathesis against a live gunicorn: the OpenAPI document is true.

Schemathesis reads /api/v1/schema from the running server and, for every
operation, sends generated boundary cases (its coverage phase), random
valid and invalid requests (fuzzing) and short request sequences it infers
from the schema's ids (stateful), and checks every
answer against the schema: no 5xx, only documented status codes, content
types, headers and bodies, invalid input refused, valid input not refused
with an undocumented status, and more (see CHECKS).

It runs once without a token and once per role, each time in a fresh
world of its own (users of every role, published, draft, cancelled and past
events, registrations in every state, assigned door staff), whose ids and
ticket codes are fed to Schemathesis as dictionaries, so that many requests
reach real objects instead of 404s. The role's run may then mutate its world
(cancel, delete, check in) without changing another run's.

A failure prints Schemathesis' report: each failing check with the request
as a curl line. Run it alone (PostgreSQL only):

    bash scripts/with-postgres.sh .venv/bin/pytest -p no:cacheprovider eventmaster/tests/test_schemathesis.py
"""

import json
import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import UserFactory
from checkin.services import checkin_scan
from eventmaster.roles import Role
from events.models import Event
from events.tests.factories import EventFactory
from registrations.models import Registration
from registrations.tests.factories import RegistrationFactory

from .server import bearer, gunicorn, server_env

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

ROLES = {
    "anonymous": None,
    "member": [Role.MEMBER],
    "organizer": [Role.MEMBER, Role.ORGANIZER],
    "door staff": [Role.MEMBER, Role.CHECKIN],
    "admin": [Role.MEMBER, Role.ADMIN],
}

# Every check of Schemathesis 4.32 ("--checks all") but one:
# object_level_authorization needs several users' credentials in one run
# (a Web Fuzzing Commons auth file); the API's own tests hold each role to
# its objects instead (404 for what a caller may not know exists).
# positive_data_acceptance is tuned in _config. (max_response_time is an
# option, not a check: the contract sets no threshold.)
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
]

# Test cases per operation and phase (Schemathesis' coverage phase adds its
# boundary cases on top): with 33 operations, five runs and two cores, this
# keeps the whole test near four minutes. A run that takes longer than
# RUN_TIMEOUT fails (Schemathesis' own --max-time would not bound it: it
# makes fuzzing repeat until the time is spent).
MAX_EXAMPLES = 25
RUN_TIMEOUT = 180
# The least a run must have done to count: without it, a run that reached
# nothing (a wrong URL, every operation filtered out) would pass.
MIN_TEST_CASES_PER_RUN = 1000
MIN_OPERATIONS_PER_RUN = 33
# Fixed, so a failure seen once is seen again; SCHEMATHESIS_SEED=n explores.
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "20260"))


def _seed_world(tag: str) -> dict:
    """One role's world: a user per role, events in every state, registrations
    in every state, door staff assigned; returns the users and the ids."""
    users = {
        role: UserFactory(email=f"{tag}-{role.replace(' ', '-')}@example.org", roles=roles)
        for role, roles in ROLES.items()
        if roles is not None
    }
    organizer, staff, member = users["organizer"], users["door staff"], users["member"]
    other_organizer = UserFactory(roles=[Role.MEMBER, Role.ORGANIZER])
    attendees = [UserFactory() for _ in range(3)]
    soon = timezone.now() + timedelta(days=7)

    published = EventFactory(organizer=organizer, capacity=3, start_at=soon)
    draft = EventFactory(organizer=organizer, status=Event.Status.DRAFT)
    cancelled = EventFactory(organizer=organizer, status=Event.Status.CANCELLED)
    past = EventFactory(
        organizer=organizer,
        start_at=timezone.now() - timedelta(days=1),
        end_at=timezone.now() - timedelta(hours=22),
    )
    full = EventFactory(organizer=other_organizer, capacity=1, waitlist_enabled=False)
    foreign = EventFactory(organizer=other_organizer, capacity=2)
    empty = EventFactory(organizer=organizer)  # deletable: no registrations
    published.staff.add(staff)
    draft.staff.add(staff)

    registrations = [
        RegistrationFactory(event=published, user=member),
        RegistrationFactory(event=published, user=attendees[0]),
        RegistrationFactory(event=published, user=attendees[1]),
        RegistrationFactory(event=published, user=attendees[2], status=Registration.Status.WAITLISTED),
        RegistrationFactory(
            event=foreign,
            user=member,
            status=Registration.Status.CANCELLED,
            cancelled_at=timezone.now(),
            cancel_reason=Registration.CancelReason.ATTENDEE_CANCELLED,
        ),
        RegistrationFactory(event=full, user=attendees[0]),
        RegistrationFactory(event=past, user=member),
        RegistrationFactory(event=foreign, user=attendees[1]),
    ]
    checkin_scan(ticket_code=registrations[1].ticket_code, event=published, by=staff)

    events = [published, draft, cancelled, past, full, foreign, empty]
    everyone = [*users.values(), other_organizer, *attendees]
    return {
        "users": users,
        "event_ids": [str(e.pk) for e in events],
        "registration_ids": [str(r.pk) for r in registrations],
        "user_ids": [str(u.pk) for u in everyone],
        "ticket_codes": [r.ticket_code for r in registrations],
    }


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def _config(world: dict, headers: dict[str, str]) -> str:
    """schemathesis.toml: the world's ids as dictionaries, bound (half the
    time; the other half Schemathesis generates its own values) to the
    parameters and body fields that take them."""
    id_of = {
        "event_ids": world["event_ids"],
        "registration_ids": world["registration_ids"],
        "user_ids": world["user_ids"],
        "ticket_codes": world["ticket_codes"],
    }
    lines = [
        f"hooks = {json.dumps(str(Path(__file__).with_name('schemathesis_hooks.py')))}",
        "",
        "[checks.positive_data_acceptance]",
        # A schema-valid request can still break a rule JSON Schema cannot
        # state (end_at after start_at, a strong password, an event_id that
        # names an event, not_checkin_staff): the contract answers those with
        # a 400 (or 422), so those statuses count as "accepted" here too.
        'expected-statuses = ["2xx", "400", "401", "403", "404", "409", "422"]',
        "",
        # Hide the bearer token only: the default also hides anything named
        # *key* or *token*, such as the Idempotency-Key of a failing request.
        "[output.sanitization]",
        'keys-to-sanitize = ["authorization"]',
        'sensitive-markers = ["authorization"]',
        "",
        "[headers]",
        *(f"{json.dumps(name)} = {json.dumps(value)}" for name, value in headers.items()),
        "",
    ]
    for name, values in id_of.items():
        lines += [f"[dictionaries.{name}]", f"values = {_toml_list(values)}", ""]

    def operations(path_regex: str, bindings: dict[str, str]) -> list[str]:
        return [
            "[[operations]]",
            f"include-path-regex = {json.dumps(path_regex)}",
            "[operations.parameters]",
            *(
                f'{json.dumps(key)} = {{ dictionary = "{name}", probability = 0.5 }}'
                for key, name in bindings.items()
            ),
            "",
        ]

    # One entry per operation: where several match, Schemathesis takes the
    # first one's parameters (it does not merge them).
    staff = {"path.id": "event_ids", "path.user_id": "user_ids", "body.user_id": "user_ids"}
    lines += operations("^/api/v1/events/\\{id\\}/staff", staff)
    lines += operations("^/api/v1/events/\\{id\\}(/[a-z.]+)?$", {"path.id": "event_ids"})
    lines += operations("^/api/v1/events/\\{event_id\\}/", {"path.event_id": "event_ids"})
    lines += operations("^/api/v1/events(/managed)?$", {"query.organizer": "user_ids"})
    lines += operations("^/api/v1/registrations/", {"path.id": "registration_ids"})
    lines += operations("^/api/v1/users/", {"path.id": "user_ids"})
    checkin = {"body.event_id": "event_ids", "body.ticket_code": "ticket_codes"}
    lines += operations("^/api/v1/checkin", checkin)
    return "\n".join(lines)


def _run_schemathesis(base_url: str, role: str, world: dict, workdir: Path) -> tuple[dict, str | None]:
    """One Schemathesis run as ``role``: its totals, and Schemathesis' own
    report if it failed (each failure with a curl line), else None."""
    user = world["users"].get(role)
    headers = bearer(user) if user else {"X-Forwarded-Proto": "https"}
    name = role.replace(" ", "-")
    config = workdir / f"{name}.toml"
    config.write_text(_config(world, headers))
    report = workdir / f"{name}.ndjson"
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config),
        "run",
        f"{base_url}/api/v1/schema",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "2",
        "--seed",
        str(SEED),
        "--generation-database",
        "none",
        "--request-timeout",
        "20",
        # Every failing case of an operation, not only its first.
        "--continue-on-failure",
        "--no-color",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
    ]
    started = time.monotonic()
    try:
        process = subprocess.run(
            command, cwd=workdir, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"Schemathesis as {role} took over {RUN_TIMEOUT} s:\n{expired.stdout}", pytrace=False)
    totals = {"role": role, "seed": SEED, **_totals(report), "seconds": round(time.monotonic() - started)}
    totals["exit_code"] = process.returncode
    failed = process.returncode != 0
    return totals, f"{process.stdout}{process.stderr}" if failed else None


def _totals(report: Path) -> dict:
    """Test cases, requests and operations, from the run's NDJSON events."""
    cases = requests_sent = 0
    operations = set()
    if report.exists():
        for line in report.read_text().splitlines():
            finished = json.loads(line).get("ScenarioFinished")
            if finished is None:
                continue
            recorder = finished.get("recorder", {})
            cases += len(recorder.get("cases", {}))
            requests_sent += len(recorder.get("interactions", {}))
            if re.fullmatch(r"[A-Z]+ /api/v1/\S*", recorder.get("label", "")):
                operations.add(recorder["label"])
    return {"test_cases": cases, "requests": requests_sent, "operations": len(operations)}


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip(
            "PostgreSQL only: it finds what SQLite hides (NUL bytes, strict types), "
            "and one database is enough for four minutes of fuzzing"
        )


@pytest.mark.timeout(900)
def test_the_openapi_document_is_true(postgres_only, tmp_path, request):
    worlds = {role: _seed_world(f"st{index}") for index, role in enumerate(ROLES)}
    env = server_env(RATELIMIT_ENABLE="false", LOG_LEVEL="WARNING")
    terminal = request.config.pluginmanager.getplugin("terminalreporter")
    results, reports = [], []
    with gunicorn(workers=2, env=env) as base_url:
        # Every role runs, so one failing run does not hide the others'.
        for role, world in worlds.items():
            totals, report = _run_schemathesis(base_url, role, world, tmp_path)
            # Shown in every run's log, not only a failing one's.
            terminal.write_line(f"\nschemathesis: {json.dumps(totals)}")
            results.append(totals)
            if report is not None:
                reports.append(f"\n===== Schemathesis as {role}: {totals} =====\n{report}")
    if reports:
        pytest.fail("".join(reports), pytrace=False)
    for totals in results:
        assert totals["operations"] >= MIN_OPERATIONS_PER_RUN, totals
        assert totals["test_cases"] >= MIN_TEST_CASES_PER_RUN, totals
