"""Attendee mails: queued with the change that causes them, sent by workers.

A service that tells an attendee something writes a ``Mail`` row in its own
transaction (``queue``), or, for the attendees of a whole event, one
``MailFanOut`` row (``queue_fan_out``), and the task that sends it is
queued when the transaction commits (for a single mail, by the first
commit of its process's window: ``_Sweep``). A worker then (``send``):

- claims each mail (a conditional UPDATE: a mail queued twice, or run by
  two workers, is sent once), builds it and sends it over one SMTP
  connection per batch, and records it as sent;
- retries a temporary failure (the server down, slow, or answering 4xx)
  with exponential backoff for MAIL_RETRY_FOR_SECONDS, then records it as
  failed; a permanent refusal (5xx) fails at once. Failed mails show in the
  admin and go again with ``retry_mails`` or the admin action.

A worker killed mid-batch leaves its task to be requeued
(eventmaster.tasks): the mails it sent are recorded, so only the one in
flight at the kill can reach its attendee twice, with the same Message-ID.
The housekeeping (``resume``) queues again what a lost task left pending.
"""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from time import monotonic
from typing import Any
from uuid import UUID, uuid4

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models import F
from django.dispatch import receiver
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from eventmaster import db, retries, tasks
from eventmaster.mail import Mail as Message
from events.calendar import event_to_ical

from . import signing
from .models import Mail, MailFanOut, Registration
from .selectors import fan_out_recipients
from .tickets import ticket_qr

logger = logging.getLogger(__name__)

Kind = Mail.Kind

_SUBJECTS = {
    Kind.CONFIRMED: "Your place is confirmed",
    Kind.PROMOTED: "You are in: off the waitlist",
    Kind.CANCELLED: "Registration cancelled",
    Kind.EVENT_CANCELLED: "Event cancelled",
    Kind.REMINDER: "Reminder",
}
_WITH_TICKET = {Kind.CONFIRMED, Kind.PROMOTED, Kind.REMINDER}


# --- Queueing (in the services' transactions) -----------------------------


def queue(registration: Registration, kind: str) -> None:
    """Mail ``registration``'s attendee about ``kind``, once: the row is
    written now, in the caller's transaction (one INSERT ... ON CONFLICT DO
    NOTHING: a second call for the same registration and kind writes
    nothing), for this process's current sweep (``_Sweep``), which is
    queued when that transaction commits if it is not yet."""
    mail, committed = new(registration, kind)
    db.insert_new(mail, ignore_conflicts=True)  # every confirmed sign-up: SQL text built once
    transaction.on_commit(committed, robust=True)


def new(registration: Registration, kind: str) -> tuple[Mail, Callable[[], None]]:
    """The row ``queue`` writes, unsaved, and what to call once it is
    committed (its sweep's queueing), for a caller that writes the row in a
    statement of its own (``ON CONFLICT DO NOTHING``, as ``queue`` does)."""
    now = timezone.now()
    sweep = _Sweep.current()
    mail = Mail(
        registration=registration,
        kind=kind,
        created_at=now,
        next_attempt_at=now,
        give_up_at=_give_up_at(now),
        sweep=sweep.key,
    )
    return mail, sweep.queue


class _Sweep:
    """One task that sends the mails a process queues in a short window.

    The mails a process queues within MAIL_SEND_WINDOW_SECONDS of its
    window's first carry the window's key; the first commit queues one
    task, ``send_sweep(key)``, due a window after the window closes, which
    sends them all. A ticket drop's thousand sign-ups a second queue a few
    tasks a second, each sending its mails over one SMTP connection, instead
    of a task each (queueing it was a fifth of a sign-up's time); a mail
    waits one to two windows.

    A commit that comes when its sweep is due within half a window (a
    transaction that outlived its window; half a window is also the clock
    skew between machines this tolerates) queues another for the same key,
    due a window later: claims keep a mail that both take from going twice.
    A failed queueing is logged (``queue`` is a robust on-commit callback)
    and leaves the next commit of the window to queue it; the last one's
    mail waits for the housekeeping (``resume``). A key is only ever this
    process's, so sweeps do not compete for each other's mails, nor take
    the mails of a fan-out. With a window of 0, every commit queues a sweep,
    due at once."""

    _current: _Sweep | None = None

    def __init__(self) -> None:
        self.key = uuid4()
        self.window = settings.MAIL_SEND_WINDOW_SECONDS
        self.closes = monotonic() + self.window
        self.due: datetime | None = None  # when its last queued task runs

    @classmethod
    def current(cls) -> _Sweep:
        sweep = cls._current
        if sweep is None or monotonic() >= sweep.closes:
            sweep = cls._current = cls()
        return sweep

    def queue(self) -> None:
        """After a commit that wrote a mail for this sweep: its task, unless
        one is queued and not due within half a window."""
        from .tasks import send_sweep

        now = timezone.now()
        if self.due is not None and now + timedelta(seconds=self.window / 2) < self.due:
            return
        due = now + timedelta(seconds=max(self.closes - monotonic(), 0) + self.window)
        tasks.enqueue(send_sweep, str(self.key), run_after=due)
        self.due = due  # only once queued: a failed queueing leaves the next commit to try


@receiver(setting_changed)
def _new_window(*, setting: str, **_: Any) -> None:
    if setting == "MAIL_SEND_WINDOW_SECONDS":
        _Sweep._current = None


def send_sweep(key: str) -> dict[str, int]:
    """A sweep's task: send every pending mail of the sweep ``key``, in
    batches of MAIL_BATCH_SIZE (one SMTP connection each)."""
    outcome: dict[str, int] = defaultdict(int)
    pending = (
        Mail.objects.filter(sweep=key, status=Mail.Status.PENDING).order_by("pk").values_list("pk", flat=True)
    )
    last = None
    while batch := list(
        (pending if last is None else pending.filter(pk__gt=last))[: settings.MAIL_BATCH_SIZE]
    ):
        for result, count in send(batch).items():
            outcome[result] += count
        last = batch[-1]
    return dict(outcome)


def queue_fan_out(event_id: UUID, kind: str, *, promoted_at: datetime | None = None) -> MailFanOut:
    """Mail every attendee of an event concerned by ``kind`` (see
    selectors.fan_out_recipients): one row now, the Mail rows by a task."""
    fan_out = MailFanOut.objects.create(event_id=event_id, kind=kind, promoted_at=promoted_at)
    from .tasks import fan_out_mails

    tasks.enqueue_on_commit(fan_out_mails, fan_out.pk)
    return fan_out


def _send_on_commit(mail_ids: Sequence[Any], *, run_after: datetime | None = None) -> None:
    from .tasks import send_mails

    retries.enqueue_on_commit(send_mails, mail_ids, run_after=run_after)


def _give_up_at(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.MAIL_RETRY_FOR_SECONDS)


# --- Fan-out (a task) -------------------------------------------------------


def fan_out(fan_out_id: int) -> int:
    """Write the Mail rows of a fan-out, a batch per transaction, and queue
    each batch's sending. Safe to run again (after a worker died): existing
    rows are kept, and only pending ones are queued. Returns how many mails
    it queued."""
    record = MailFanOut.objects.filter(pk=fan_out_id, done_at__isnull=True).first()
    if record is None:
        return 0
    recipients = fan_out_recipients(record).order_by("pk").values_list("pk", flat=True)
    queued, last = 0, None
    while True:
        page = recipients if last is None else recipients.filter(pk__gt=last)
        chunk = list(page[: settings.MAIL_BATCH_SIZE])
        if not chunk:
            break
        with transaction.atomic():
            now = timezone.now()
            Mail.objects.bulk_create(
                [
                    Mail(registration_id=pk, kind=record.kind, created_at=now, give_up_at=_give_up_at(now))
                    for pk in chunk
                ],
                ignore_conflicts=True,
            )
            ids = list(
                Mail.objects.filter(
                    registration_id__in=chunk, kind=record.kind, status=Mail.Status.PENDING
                ).values_list("pk", flat=True)
            )
            if ids:
                _send_on_commit(ids)
            queued += len(ids)
        last = chunk[-1]
    MailFanOut.objects.filter(pk=record.pk).update(done_at=timezone.now())
    return queued


# --- Sending (a task) -------------------------------------------------------


class _ServerDown(Exception):
    """The SMTP server cannot be reached: no mail of this batch can go."""


def send(mail_ids: Iterable[Any]) -> dict[str, int]:
    """Send the pending mails among ``mail_ids`` over one SMTP connection;
    retry or fail the ones that did not go. Returns counts by outcome."""
    outcome: dict[str, int] = defaultdict(int)
    connection: BaseEmailBackend | None = None
    retry: list[tuple[Mail, str, bool]] = []  # (mail, error, claimed by this run)
    mails = list(
        Mail.objects.filter(pk__in=list(mail_ids), status=Mail.Status.PENDING)
        .select_related("registration__event", "registration__user")
        .order_by("created_at", "pk")
    )
    try:
        for index, mail in enumerate(mails):
            if not _claim(mail):
                outcome["skipped"] += 1
                continue
            try:
                message = _build(mail)
            except Exception as exc:
                logger.exception("building attendee mail failed", extra={"mail": str(mail.pk)})
                _fail(mail, f"could not build the mail: {exc!r}")
                outcome["failed"] += 1
                continue
            try:
                if connection is None:
                    connection = _open()
                connection.send_messages([message.message(connection, message_id=_message_id(mail))])
            except _ServerDown as exc:
                # Nothing else of this batch can go either: all retry later.
                retry.append((mail, str(exc), True))
                retry.extend((other, str(exc), False) for other in mails[index + 1 :])
                break
            except Exception as exc:
                if _is_permanent(exc):
                    logger.warning("the mail server refused an attendee mail", extra={"mail": str(mail.pk)})
                    _fail(mail, _describe(exc))
                    outcome["failed"] += 1
                else:
                    retry.append((mail, _describe(exc), True))
                    _close(connection)  # a fresh connection for the next one
                    connection = None
                continue
            Mail.objects.filter(pk=mail.pk).update(
                status=Mail.Status.SENT, sent_at=timezone.now(), claimed_until=None, last_error=""
            )
            outcome["sent"] += 1
    finally:
        _close(connection)
    for result in _retry_later(retry):
        outcome[result] += 1
    return dict(outcome)


def _claim(mail: Mail) -> bool:
    now = timezone.now()
    lease = timedelta(seconds=settings.MAIL_CLAIM_SECONDS)
    claimed = (
        Mail.objects.filter(pk=mail.pk, status=Mail.Status.PENDING, next_attempt_at__lte=now)
        .filter(retries.unclaimed(now))
        .update(claimed_until=now + lease, attempts=F("attempts") + 1)
    )
    if claimed:
        mail.attempts += 1
        mail.claimed_until = now + lease
    return bool(claimed)


def _open() -> BaseEmailBackend:
    connection = get_connection()
    try:
        connection.open()
    except (OSError, smtplib.SMTPException) as exc:
        raise _ServerDown(_describe(exc)) from exc
    return connection


def _close(connection: BaseEmailBackend | None) -> None:
    if connection is not None:
        try:
            connection.close()
        except Exception:
            logger.warning("closing the mail connection failed", exc_info=True)


def _is_permanent(exc: BaseException) -> bool:
    """A 5xx answer: the server will not take this mail, however often it
    is sent (an unknown recipient, a refused sender). Anything else, a
    dropped connection or a 4xx, may pass later."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    return False


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def _fail(mail: Mail, error: str) -> None:
    Mail.objects.filter(pk=mail.pk).update(status=Mail.Status.FAILED, claimed_until=None, last_error=error)


def _retry_later(failed: list[tuple[Mail, str, bool]]) -> list[str]:
    """Schedule each mail's next attempt (exponential backoff) and queue it
    then; fail the ones past their give-up time. A mail the batch did not
    get to (the server was down) counts the attempt too."""
    now = timezone.now()
    results: list[str] = []
    by_time: dict[datetime, list[Any]] = defaultdict(list)
    for mail, error, claimed in failed:
        attempts = mail.attempts + (0 if claimed else 1)
        at = now + retries.backoff(
            attempts, first=settings.MAIL_RETRY_FIRST_SECONDS, cap=settings.MAIL_RETRY_MAX_SECONDS
        )
        row = Mail.objects.filter(pk=mail.pk, status=Mail.Status.PENDING)
        # Only while this run's claim holds; one it did not claim, only if
        # no other worker holds it now.
        row = row.filter(claimed_until=mail.claimed_until) if claimed else row.filter(retries.unclaimed(now))
        if at > mail.give_up_at:
            done = row.update(status=Mail.Status.FAILED, claimed_until=None, last_error=error)
            results.append("failed" if done else "skipped")
            continue
        if not row.update(next_attempt_at=at, claimed_until=None, last_error=error, attempts=attempts):
            results.append("skipped")
            continue
        by_time[at.replace(microsecond=0) + timedelta(seconds=1)].append(mail.pk)
        results.append("retry")
    for at, ids in by_time.items():
        _send_on_commit(ids, run_after=at)
    if failed:
        logger.warning("attendee mails will be retried", extra={"mails": len(failed)})
    return results


def _message_id(mail: Mail) -> str:
    return f"<{mail.pk}@{settings.MAIL_MESSAGE_ID_DOMAIN}>"


def _build(mail: Mail) -> Message:
    registration = mail.registration
    event, user = registration.event, registration.user
    kind = Kind(mail.kind)
    extra: dict[str, Any] = {}
    if kind in _WITH_TICKET:
        extra = {
            # The signed ticket (registrations.signing): door devices check it offline.
            "inline_png": ("ticket", ticket_qr(signing.sign(registration), "png")),
            "attachments": [("event.ics", event_to_ical(event), "text/calendar")],
        }
    return Message(
        to=user.email,
        subject=f"{_SUBJECTS[kind]}: {event.title}",
        template=f"registrations/email/{kind.value}",
        context={"registration": registration, "event": event, "user": user},
        **extra,
    )


# --- Operations -------------------------------------------------------------


def retry_failed(*, ids: Sequence[Any] | None = None) -> int:
    """Send failed mails again (from now, with a fresh day of retries)."""
    now = timezone.now()
    failed = Mail.objects.filter(status=Mail.Status.FAILED)
    if ids is not None:
        failed = failed.filter(pk__in=list(ids))
    pks = list(failed.values_list("pk", flat=True)[:100_000])
    done = 0
    for start in range(0, len(pks), settings.MAIL_BATCH_SIZE):
        chunk = pks[start : start + settings.MAIL_BATCH_SIZE]
        with transaction.atomic():
            done += Mail.objects.filter(pk__in=chunk, status=Mail.Status.FAILED).update(
                status=Mail.Status.PENDING,
                next_attempt_at=now,
                give_up_at=_give_up_at(now),
                claimed_until=None,
                attempts=0,
            )
            _send_on_commit(chunk)
    return done


def resume(*, now: datetime | None = None) -> int:
    """Housekeeping: queue again the pending mails that should have gone
    MAIL_RESUME_AFTER_SECONDS ago (their task was lost: a crash between a
    commit and its queueing, a task that failed on a database outage; a
    sweep's after MAIL_SWEEP_RESUME_AFTER_SECONDS) and the fan-outs left
    unfinished that long. Returns how many mails."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.MAIL_RESUME_AFTER_SECONDS)
    from .tasks import fan_out_mails

    for pk in MailFanOut.objects.filter(done_at__isnull=True, queued_at__lt=cutoff).values_list(
        "pk", flat=True
    )[:100]:
        if MailFanOut.objects.filter(pk=pk, queued_at__lt=cutoff).update(queued_at=now):
            tasks.enqueue(fan_out_mails, pk)
    from .tasks import send_mails

    resumed = 0
    pending = Mail.objects.filter(status=Mail.Status.PENDING)
    # A sweep's never-tried mails sooner, once: a sweep is due a second or
    # two after its mails, so one still untried a minute later was most
    # likely missed (a worker's clock ahead of the web's, an old worker that
    # does not know send_sweep during a deploy, a failed queueing), or the
    # queue is running that far behind. Leaving the sweep makes the mail an
    # ordinary one: a backlog does not requeue it again every minute.
    sweep_cutoff = now - timedelta(seconds=settings.MAIL_SWEEP_RESUME_AFTER_SECONDS)
    passes = (
        (pending.filter(sweep__isnull=False, attempts=0), sweep_cutoff, {"sweep": None}),
        (pending, cutoff, None),
    )
    for overdue, before, also in passes:
        # Each batch due now again: not requeued before another cutoff.
        while ids := retries.requeue_overdue(
            overdue, task=send_mails, now=now, cutoff=before, limit=settings.MAIL_BATCH_SIZE, also=also
        ):
            resumed += len(ids)
    return resumed


def metrics() -> Iterator[GaugeMetricFamily]:
    """For /metrics: attendee mails waiting and failed (both on an index)."""
    family = GaugeMetricFamily("eventmaster_mails", "Attendee mails by status.", labels=["status"])
    for status in (Mail.Status.PENDING, Mail.Status.FAILED):
        family.add_metric([status.value], Mail.objects.filter(status=status).count())
    yield family
