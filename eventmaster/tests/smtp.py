"""A real SMTP server for the tests: aiosmtpd on a loopback port, started and
stopped by the test. It keeps every message it accepts (recipient,
Message-ID, subject), and can answer slowly or refuse recipients.

    with smtp_sink() as sink:               # a free port
        ... EMAIL_PORT=sink.port ...
        sink.wait_for(lambda s: s.total >= 20)
        assert sink.by_recipient() == {...}
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import socket
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from aiosmtpd.controller import Controller

LOOPBACK = "127.0.0.1"

# (recipient, how many times it was offered, this one included) -> an SMTP
# reply refusing it ("451 4.3.0 try later"), or None to accept it.
Refusal = Callable[[str, int], str | None]


def free_port() -> int:
    """A loopback port nothing listens on (at the time of asking)."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Received:
    recipient: str
    message_id: str
    subject: str
    at: float  # time.monotonic() when the server had the whole message


class _Handler:
    """aiosmtpd's handler hooks. A message is recorded as soon as its data
    is in (before the server answers 250): a client killed while waiting
    for the answer has delivered it, as with a real server."""

    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.sink.offered(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.sink.record(
            envelope.rcpt_tos, message_id=str(message["Message-ID"]), subject=str(message["Subject"])
        )
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        return "250 Message accepted for delivery"


class SmtpSink:
    """The server's state, safe to read from the test's thread."""

    def __init__(self, *, port: int | None = None, delay: float = 0.0, refuse: Refusal | None = None):
        self.port = port or free_port()
        self.delay = delay  # seconds between having a message and answering 250
        self.refuse = refuse
        self._lock = threading.RLock()
        self._arrived = threading.Condition(self._lock)  # notified at each message
        self._received: list[Received] = []
        self._offered: Counter[str] = Counter()
        self._controller: Controller | None = None

    # --- the server's side (its event loop's thread) ---

    def offered(self, address: str) -> str | None:
        with self._lock:
            self._offered[address] += 1
            times = self._offered[address]
        return self.refuse(address, times) if self.refuse else None

    def record(self, recipients: list[str], *, message_id: str, subject: str) -> None:
        now = time.monotonic()
        with self._arrived:
            self._received.extend(Received(r, message_id, subject, now) for r in recipients)
            self._arrived.notify_all()

    # --- the test's side ---

    def start(self) -> None:
        assert self._controller is None, "already started"
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command at INFO
        # server_hostname: no reverse DNS lookup of this host (getfqdn) at start.
        controller = Controller(
            _Handler(self), hostname=LOOPBACK, port=self.port, server_hostname="sink.test"
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    @property
    def total(self) -> int:
        with self._lock:
            return len(self._received)

    def by_recipient(self) -> Counter[str]:
        return Counter(r.recipient for r in self.received)

    def message_ids(self) -> dict[str, list[str]]:
        """recipient -> the Message-ID of each message it received."""
        ids: dict[str, list[str]] = defaultdict(list)
        for r in self.received:
            ids[r.recipient].append(r.message_id)
        return dict(ids)

    def times_offered(self, address: str) -> int:
        with self._lock:
            return self._offered[address]

    def wait_for(self, condition: Callable[[SmtpSink], bool], *, timeout: float, what: str = "") -> None:
        """Until ``condition(sink)`` holds, checked as each message arrives
        (the test acts while the server still holds that message)."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: condition(self), timeout):
                raise AssertionError(
                    f"the SMTP sink did not see {what or 'it'} in {timeout} s: {self.total} mails"
                )


@contextmanager
def smtp_sink(
    *, port: int | None = None, delay: float = 0.0, refuse: Refusal | None = None
) -> Iterator[SmtpSink]:
    """A running SmtpSink on ``port`` (a free one by default), always stopped."""
    sink = SmtpSink(port=port, delay=delay, refuse=refuse)
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()
