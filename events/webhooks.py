"""Webhooks: the domain events (eventmaster.audit) told to organizers'
endpoints, signed per Standard Webhooks, delivered by the task workers.

1. **Dispatch** (``dispatch``, task ``dispatch_webhooks``): the outbox rows
   not dispatched yet, oldest first, become one ``WebhookDelivery`` per
   endpoint that wants them (its types, its event, and only events its
   organizer runs: an admin's endpoint hears of every event and of role
   and account changes). The payload is rendered then, once: the type, the
   domain event's id and time, and the object as the API shows it (each
   app registers how its objects render: ``register_renderer``). Queued a
   moment after a commit that recorded something (at most once a second per
   process) and by the workers' housekeeping.
2. **Delivery** (``deliver``, task ``deliver_webhooks``): POST with the
   ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` headers
   (the ``standardwebhooks`` package), a 5 s timeout, to the address the
   host name resolved to, which must be public (``check_destination``:
   no loopback, private, link-local or metadata address, on redirects too)
   unless WEBHOOK_ALLOW_PRIVATE_DESTINATIONS. A 2xx delivers; a network
   error, a 5xx or a 429 is retried with exponential backoff for about a
   day (WEBHOOK_RETRY_*); any other answer fails it. Every attempt is
   recorded (status, duration, the start of the answer).
3. **Failing endpoints**: an endpoint whose deliveries have all failed for
   WEBHOOK_DISABLE_AFTER_SECONDS is deactivated and its organizer mailed.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from eventmaster import retries, tasks
from eventmaster.models import DomainEvent
from eventmaster.roles import Role, has_role, is_admin

from .models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint

Renderer = Callable[[DomainEvent], dict[str, Any] | None]
_RENDERERS: dict[str, Renderer] = {}

DISPATCH_BATCH = 500


def register_renderer(object_type: str, render: Renderer) -> None:
    """How a domain event's object shows in a payload (apps call it from
    ``AppConfig.ready``); None: it is gone, the payload carries what the
    outbox row kept."""
    _RENDERERS[object_type] = render


def render_event(row: DomainEvent) -> dict[str, Any] | None:
    from .serializers import EventSerializer

    event = Event.objects.select_related("organizer").filter(pk=row.object_id).first()
    return None if event is None else dict(EventSerializer(event).data)


# --- Destinations ---------------------------------------------------------------


class UnsafeDestinationError(Exception):
    """A URL the webhooks may not call (and why)."""


class LookupTimeoutError(Exception):
    """The host name's lookup did not answer in time (DNS down or slow): a
    fault outside us, worth trying again (the API answers 503)."""


def check_destination(url: str, *, timeout: float | None = None) -> tuple[str, int, str]:
    """(address to connect to, port, host name) of an http(s) URL whose host
    resolves to public addresses only (every address it resolves to, so a
    name with one private address is refused). Raises UnsafeDestinationError,
    or LookupTimeoutError when the lookup takes longer than ``timeout``
    seconds (default WEBHOOK_TIMEOUT_SECONDS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeDestinationError("Only http and https URLs with a host name are allowed.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeDestinationError("The port is not a number.") from exc
    wait = settings.WEBHOOK_TIMEOUT_SECONDS if timeout is None else timeout
    try:
        infos = _resolve(parts.hostname, port, wait)
    except (OSError, UnicodeError) as exc:
        raise UnsafeDestinationError(f"The host name {parts.hostname} does not resolve.") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not settings.WEBHOOK_ALLOW_PRIVATE_DESTINATIONS:
        for address in addresses:
            if not _public(address):
                # Not which address: that would map the internal network.
                raise UnsafeDestinationError(f"{parts.hostname} is not a public address.")
    return addresses[0], port, parts.hostname


def _resolve(host: str, port: int, wait: float) -> list[Any]:
    """getaddrinfo(), which takes no timeout, on a thread of its own that the
    caller waits for only ``wait`` seconds. Its own thread: a name whose DNS
    never answers keeps that thread (until the resolver gives up), not one
    that other endpoints' lookups queue behind."""
    done = threading.Event()
    outcome: dict[str, Any] = {}

    def lookup() -> None:
        try:
            outcome["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except BaseException as exc:  # handed to the caller
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=lookup, name="webhook-dns", daemon=True).start()
    if not done.wait(max(wait, 0.001)):
        raise LookupTimeoutError(f"The host name {host} did not resolve in time.")
    error: BaseException | None = outcome.get("error")
    if error is not None:
        raise error
    infos: list[Any] = outcome["infos"]
    return infos


def _public(address: str) -> bool:
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif any(ip in net for net in _IPV4_IN_IPV6):  # NAT64, 6to4, IPv4-compatible: they lead to IPv4
            return False
    return ip.is_global and not ip.is_multicast


_IPV4_IN_IPV6 = tuple(
    ipaddress.IPv6Network(net) for net in ("64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "::/96")
)


# --- Dispatch ---------------------------------------------------------------------

_last_scheduled = 0.0


def schedule_dispatch() -> None:
    """After a commit that recorded domain events: queue a dispatch, at most
    once a second per process (one dispatch takes every row waiting)."""
    global _last_scheduled
    if not settings.WEBHOOK_DISPATCH_ON_COMMIT:
        return
    now = time.monotonic()
    if now - _last_scheduled < 1.0:
        return
    _last_scheduled = now
    from .tasks import dispatch_webhooks

    tasks.enqueue(dispatch_webhooks)


def dispatch(*, limit: int = DISPATCH_BATCH) -> int:
    """Turn up to ``limit`` undispatched outbox rows into deliveries (in one
    transaction, the rows locked so two dispatchers share the work) and
    queue them; returns how many rows. Idempotent per (endpoint, row)."""
    with transaction.atomic():
        rows = list(
            DomainEvent.objects.filter(dispatched_at__isnull=True)
            .order_by("id")
            .select_for_update(skip_locked=True)[:limit]
        )
        if not rows:
            return 0
        endpoints = list(
            WebhookEndpoint.objects.filter(active=True, organizer__is_active=True).select_related("organizer")
        )
        now = timezone.now()
        deliveries = []
        if endpoints:
            managed = _organizers({row.event_id for row in rows if row.event_id})
            for row in rows:
                wanted = [e for e in endpoints if _wants(e, row, managed)]
                if not wanted:
                    continue
                payload = render(row)
                deliveries += [_delivery(endpoint, row, payload, now) for endpoint in wanted]
        WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True, batch_size=500)
        DomainEvent.objects.filter(pk__in=[row.pk for row in rows]).update(dispatched_at=now)
        ids = list(
            WebhookDelivery.objects.filter(
                domain_event__in=rows, status=WebhookDelivery.Status.PENDING
            ).values_list("pk", flat=True)
        )
        _queue_on_commit(ids)
    return len(rows)


def _delivery(
    endpoint: WebhookEndpoint, row: DomainEvent, payload: dict[str, Any], now: datetime
) -> WebhookDelivery:
    return WebhookDelivery(
        endpoint=endpoint,
        domain_event=row,
        type=row.type,
        payload=payload,
        next_attempt_at=now,
        give_up_at=now + _retry_for(),
    )


def _organizers(event_ids: set[Any]) -> dict[Any, Any]:
    """{event id: organizer id} of the rows' events."""
    return dict(Event.objects.filter(pk__in=event_ids).values_list("pk", "organizer_id"))


def _wants(endpoint: WebhookEndpoint, row: DomainEvent, organizers: dict[Any, Any]) -> bool:
    if endpoint.event_types and row.type not in endpoint.event_types:
        return False
    if endpoint.event_id is not None and endpoint.event_id != row.event_id:
        return False
    admin = is_admin(endpoint.organizer)
    if row.event_id is None:
        return admin  # role and account changes: admins only
    # Only events its organizer runs (events.rules.MANAGE_EVENT; a deleted
    # event: its outbox row kept who organized it).
    organizer = organizers.get(row.event_id, row.data.get("organizer_id"))
    return admin or (
        has_role(endpoint.organizer, Role.ORGANIZER) and str(organizer) == str(endpoint.organizer_id)
    )


def render(row: DomainEvent) -> dict[str, Any]:
    """The payload: the type, the domain event's id and time, the object."""
    renderer = _RENDERERS.get(row.object_type)
    data = renderer(row) if renderer else None
    if data is None:
        data = {"id": row.object_id, **row.data}
    return _payload(row.type, f"evt_{row.pk}", row.occurred_at, data)


def _payload(type: str, id: str | None, timestamp: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """Every message's body, as JSON gives it back (stored once, sent as is)."""
    payload: dict[str, Any] = json.loads(
        json.dumps({"type": type, "id": id, "timestamp": timestamp, "data": data}, cls=DjangoJSONEncoder)
    )
    return payload


# --- Delivery ---------------------------------------------------------------------


def _retry_for() -> timedelta:
    return timedelta(seconds=settings.WEBHOOK_RETRY_FOR_SECONDS)


def _queue_on_commit(ids: Iterable[Any], *, run_after: datetime | None = None) -> None:
    from .tasks import deliver_webhooks

    retries.enqueue_on_commit(deliver_webhooks, ids, run_after=run_after)


def deliver(delivery_ids: Iterable[Any]) -> dict[str, int]:
    """Send each pending, due delivery of ``delivery_ids`` (claimed first:
    a duplicate task or a second worker skips it). Returns counts."""
    counts = {"delivered": 0, "retry": 0, "failed": 0, "skipped": 0}
    for pk in delivery_ids:
        now = timezone.now()
        claimed = WebhookDelivery.objects.filter(
            retries.unclaimed(now),
            pk=pk,
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now,
        ).update(claimed_until=(token := now + timedelta(seconds=settings.WEBHOOK_CLAIM_SECONDS)))
        if not claimed:
            counts["skipped"] += 1
            continue
        delivery = WebhookDelivery.objects.select_related("endpoint__organizer").get(pk=pk)
        counts[_attempt(delivery, claim=token)] += 1
    return counts


def _attempt(delivery: WebhookDelivery, *, claim: datetime) -> str:
    """One attempt, recorded; its outcome written only while this worker
    still holds the claim (``claim``: a worker that outlived it, e.g. on a
    receiver slower than WEBHOOK_CLAIM_SECONDS, leaves the delivery to the
    one that took it over)."""
    endpoint = delivery.endpoint
    body = json.dumps(delivery.payload, separators=(",", ":"))
    started, at = time.perf_counter(), timezone.now()
    if endpoint.active and endpoint.organizer.is_active:
        status_code, error, excerpt = _post(endpoint, delivery.message_id, at, body)
    else:  # turned off meanwhile, or its organizer's account: not sent
        status_code, error, excerpt = None, "the endpoint is turned off", ""
        delivery.give_up_at = at
    duration_ms = round((time.perf_counter() - started) * 1000)
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery, at=at, status_code=status_code, duration_ms=duration_ms,
            error=error.replace("\x00", "")[:300], response_excerpt=excerpt.replace("\x00", "")[:500],
        )  # fmt: skip
        delivery.attempts += 1
        delivery.claimed_until = None
        if status_code is not None and 200 <= status_code < 300:
            outcome = "delivered"
            delivery.status, delivery.delivered_at = WebhookDelivery.Status.DELIVERED, timezone.now()
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        else:
            retryable = status_code is None or status_code >= 500 or status_code == 429
            next_at = at + _backoff(delivery.attempts)
            if retryable and next_at < delivery.give_up_at:
                outcome = "retry"
                delivery.next_attempt_at = next_at
                _queue_on_commit([delivery.pk], run_after=next_at)
            else:
                outcome = "failed"
                delivery.status = WebhookDelivery.Status.FAILED
            _endpoint_failed(endpoint, at)
        fields = ("attempts", "claimed_until", "status", "delivered_at", "next_attempt_at", "give_up_at")
        held = WebhookDelivery.objects.filter(pk=delivery.pk, claimed_until=claim).update(
            **{field: getattr(delivery, field) for field in fields}
        )
        if not held:  # another worker owns it now: its outcome stands (this attempt stays recorded)
            return "skipped"
    return outcome


def _backoff(attempts: int) -> timedelta:
    return retries.backoff(
        attempts, first=settings.WEBHOOK_RETRY_FIRST_SECONDS, cap=settings.WEBHOOK_RETRY_MAX_SECONDS
    )


def _post(endpoint: WebhookEndpoint, message_id: str, at: datetime, body: str) -> tuple[int | None, str, str]:
    """(status code or None, error, start of the answer's body)."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "EventMaster-Webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(endpoint.secret).sign(message_id, at.astimezone(UTC), body),
    }
    url = endpoint.url
    # One deadline for the whole attempt: every lookup, connection and answer
    # of every redirect it follows. Socket timeouts bound each wait; the
    # watchdog cuts the connection at the deadline, so a receiver that
    # trickles its answer a byte at a time cannot hold the worker longer.
    deadline = time.monotonic() + settings.WEBHOOK_TIMEOUT_SECONDS
    watchdog = _Watchdog(settings.WEBHOOK_TIMEOUT_SECONDS)
    try:
        for _ in range(settings.WEBHOOK_MAX_REDIRECTS + 1):
            response = _post_once(url, headers, body, deadline, watchdog)
            location = response.headers.get("Location")
            if response.status in (301, 302, 303, 307, 308) and location:
                response.release_conn()
                url = urljoin(url, location)  # checked again on the next round
                continue
            # One read, of 500 bytes at most: a receiver may send gigabytes, or a byte a second.
            excerpt = response.read1(500, decode_content=False)
            response.release_conn()
            return response.status, "", excerpt.decode(errors="replace")
        return None, "too many redirects", ""
    except UnsafeDestinationError as exc:
        return None, f"refused: {exc}", ""
    except Exception as exc:  # whatever a receiver does is its failure, recorded
        if watchdog.expired:
            return None, f"no answer in {settings.WEBHOOK_TIMEOUT_SECONDS:g} s", ""
        return None, f"{type(exc).__name__}: {exc}", ""
    finally:
        watchdog.cancel()


class _Watchdog:
    """Shuts down every connection it watches after ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket | None) -> None:
        with self._lock:
            if sock is not None:
                self._sockets.append(sock)
            if self.expired:
                self._cut()

    def cancel(self) -> None:
        self._timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            self._cut()

    def _cut(self) -> None:
        for sock in self._sockets:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)


def _watched(base: type[Any], watchdog: _Watchdog) -> type[Any]:
    """``base`` (urllib3's HTTP or HTTPS connection) whose socket, once
    connected, is the watchdog's to cut."""

    class Watched(base):  # a subclass made per attempt
        def connect(self) -> None:
            super().connect()
            watchdog.watch(self.sock)

    return Watched


def _post_once(
    url: str, headers: dict[str, str], body: str, deadline: float, watchdog: _Watchdog
) -> urllib3.BaseHTTPResponse:
    address, port, host = check_destination(url, timeout=_left(deadline))
    parts = urlsplit(url)
    timeout = urllib3.Timeout(total=_left(deadline))
    # To the address just checked (a second resolution could answer
    # otherwise); the host name goes in the Host header and TLS.
    pool: urllib3.HTTPConnectionPool
    if parts.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address, port, timeout=timeout, retries=False, server_hostname=host, assert_hostname=host
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
    pool.ConnectionCls = _watched(pool.ConnectionCls, watchdog)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    default_port = 443 if parts.scheme == "https" else 80
    name = f"[{host}]" if ":" in host else host.encode("idna").decode()
    host_header = name if port == default_port else f"{name}:{port}"
    try:
        return pool.urlopen(
            "POST", path, body=body.encode(), headers={**headers, "Host": host_header},
            redirect=False, preload_content=False,
        )  # fmt: skip
    finally:
        pool.close()


def _left(deadline: float) -> float:
    """Seconds left before ``deadline``; TimeoutError when none are."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError(f"no answer in {settings.WEBHOOK_TIMEOUT_SECONDS:g} s")
    return left


def _endpoint_failed(endpoint: WebhookEndpoint, at: datetime) -> None:
    """The endpoint's failing streak: started now, or long enough to
    deactivate it (and tell its organizer)."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=at)
    cutoff = at - timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS)
    disabled = WebhookEndpoint.objects.filter(pk=endpoint.pk, active=True, failing_since__lt=cutoff).update(
        active=False, disabled_reason=f"every delivery failed since {cutoff:%Y-%m-%d %H:%M} UTC"
    )
    if disabled:
        from .tasks import tell_organizer_endpoint_disabled

        endpoint_id = str(endpoint.pk)
        tasks.enqueue_on_commit(tell_organizer_endpoint_disabled, endpoint_id)


def tell_organizer_endpoint_disabled(endpoint_id: str) -> bool:
    """Mail the organizer of an endpoint that was turned off (a task: an SMTP
    failure fails it, visibly, in the queue). False when it is gone or back on."""
    endpoint = (
        WebhookEndpoint.objects.select_related("organizer").filter(pk=endpoint_id, active=False).first()
    )
    if endpoint is None:
        return False
    send_mail(
        "Your EventMaster webhook endpoint was turned off",
        f"Every delivery to {endpoint.url} has failed for "
        f"{settings.WEBHOOK_DISABLE_AFTER_SECONDS // 86400} days, so EventMaster stopped sending to it. "
        f"Fix the receiver, then set the endpoint active again (PATCH /api/v1/webhooks/{endpoint.pk}) and "
        "resend the failed deliveries.",
        None,
        [endpoint.organizer.email],
    )
    return True


def resume(*, now: datetime | None = None) -> int:
    """Housekeeping: dispatch what waits, and queue again the pending
    deliveries overdue by WEBHOOK_RESUME_AFTER_SECONDS (a lost task, a
    worker killed while it held one). Returns how many."""
    now = now or timezone.now()
    from .tasks import deliver_webhooks, dispatch_webhooks

    if DomainEvent.objects.filter(dispatched_at__isnull=True).exists():
        tasks.enqueue(dispatch_webhooks)
    return len(
        retries.requeue_overdue(
            WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING),
            task=deliver_webhooks,
            now=now,
            cutoff=now - timedelta(seconds=settings.WEBHOOK_RESUME_AFTER_SECONDS),
            limit=500,
        )
    )


PRUNE_BATCH = 2000


def prune(*, now: datetime | None = None, batch: int = PRUNE_BATCH) -> tuple[int, int]:
    """Housekeeping: forget up to ``batch`` finished deliveries (with their
    attempts) older than WEBHOOK_DELIVERY_KEEP_DAYS, and up to ``batch`` of
    the oldest domain events, dispatched more than DOMAIN_EVENT_KEEP_DAYS
    ago (a delivery that named one keeps its payload). Returns (deliveries,
    domain events) forgotten. Cheap when there is nothing to forget (two
    indexed reads), so every worker's housekeeping runs it."""
    now = now or timezone.now()
    with transaction.atomic():
        # Locked, and pending ones left out under the lock: a resend that
        # makes one pending again waits, or is waited for.
        old_deliveries = list(
            WebhookDelivery.objects.filter(
                created_at__lt=now - timedelta(days=settings.WEBHOOK_DELIVERY_KEEP_DAYS)
            )
            .exclude(status=WebhookDelivery.Status.PENDING)
            .order_by("created_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:batch]
        )
        deliveries = 0
        if old_deliveries:  # their attempts go with them (CASCADE)
            deleted = WebhookDelivery.objects.filter(pk__in=old_deliveries).delete()[1]
            deliveries = deleted.get(WebhookDelivery._meta.label, 0)
    # Ids grow with time: the oldest rows are the first ids (the primary key
    # index, no scan of the table). Undispatched ones wait.
    cutoff = now - timedelta(days=settings.DOMAIN_EVENT_KEEP_DAYS)
    oldest = DomainEvent.objects.order_by("id").values_list("id", "dispatched_at")[:batch]
    candidates = [pk for pk, dispatched_at in oldest if dispatched_at is not None and dispatched_at < cutoff]
    if not candidates:
        return deliveries, 0
    deleted = DomainEvent.objects.filter(pk__in=candidates).delete()[1]
    return deliveries, deleted.get(DomainEvent._meta.label, 0)


# --- Organizer actions ------------------------------------------------------------


def ping(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A test message (type ``webhook.ping``), queued like any delivery."""
    now = timezone.now()
    payload = _payload("webhook.ping", None, now, {"endpoint": str(endpoint.pk)})
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, type="webhook.ping", payload=payload, next_attempt_at=now,
            give_up_at=now + _retry_for(),
        )  # fmt: skip
        _queue_on_commit([delivery.pk])
    return delivery


def resend(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again (same ``webhook-id`` and body), with a fresh
    day of retries, whatever became of it."""
    now = timezone.now()
    with transaction.atomic():
        resent = WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.PENDING, next_attempt_at=now, give_up_at=now + _retry_for(),
            claimed_until=None, delivered_at=None,
        )  # fmt: skip
        if not resent:  # forgotten meanwhile (prune)
            raise WebhookDelivery.DoesNotExist()
        _queue_on_commit([delivery.pk])
    delivery.refresh_from_db()
    return delivery
