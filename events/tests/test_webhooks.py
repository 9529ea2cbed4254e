"""Webhooks (events.webhooks): endpoints through the API, destinations that
are refused, and deliveries to a real HTTP receiver on loopback that checks
every signature with the standardwebhooks library."""

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from standardwebhooks.webhooks import Webhook

from accounts.tests.factories import UserFactory
from eventmaster.models import DomainEvent
from eventmaster.roles import Role
from eventmaster.tests.utils import assert_error, client_for, run_tasks
from events import webhooks
from events.models import WebhookDelivery, WebhookEndpoint
from events.tests.factories import EventFactory
from registrations.services import registration_create

pytestmark = pytest.mark.django_db


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True  # a receiver that was down comes back on its port
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that went away (a killed worker) is part of the tests


class Receiver:
    """An HTTP server on loopback answering each POST with the next status
    of ``script`` (then 200), keeping what it was sent."""

    def __init__(self, port: int = 0) -> None:
        self.script: list[int] = []
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.redirect_to: str | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                receiver.answer(len(receiver.requests))
                if receiver.redirect_to:
                    self.send_response(307)
                    self.send_header("Location", receiver.redirect_to)
                    self.end_headers()
                    return
                self.send_response(receiver.script.pop(0) if receiver.script else 200)
                self.end_headers()
                self.wfile.write(b"thanks")

            def log_message(self, *args: object) -> None:
                pass

        self.server = _Server(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, number: int) -> None:
        """Called with each POST's number (from 1) before it is answered."""

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def verified(self, secret: str) -> list[dict]:
        """Every request's payload, each signature checked (raises if one fails)."""
        return [Webhook(secret).verify(body, headers) for headers, body in self.requests]


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_DESTINATIONS = True
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_dispatch_schedule(settings):
    settings.WEBHOOK_DISPATCH_ON_COMMIT = True  # off in the rest of the suite
    webhooks._last_scheduled = 0.0


@pytest.fixture
def slow_dns(monkeypatch):
    """Lookups of slow-dns.example.org hang (until the test ends, at most
    10 s); any other name resolves to 127.0.0.1."""
    release = threading.Event()
    real = webhooks.socket.getaddrinfo

    def hanging(host, *args, **kwargs):
        if host == "slow-dns.example.org":
            release.wait(timeout=10)
        return real("127.0.0.1", *args, **kwargs)

    monkeypatch.setattr(webhooks.socket, "getaddrinfo", hanging)
    yield
    release.set()


def endpoint_for(organizer, url, **fields) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(organizer=organizer, url=url, **fields)


def committed():
    """Run the on-commit callbacks of what happens inside (the test's
    transaction never commits): the deliveries' tasks get queued."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def dispatch() -> int:
    with committed():
        return webhooks.dispatch()


def later() -> None:
    """Let the retries come due (their tasks wait with run_after)."""
    WebhookDelivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())


class TestEndpointsAPI:
    def test_create_shows_the_secret_once_and_lists_only_the_callers(
        self, organizer, organizer_client, member_client, admin_client, settings
    ):
        settings.WEBHOOK_ALLOW_PRIVATE_DESTINATIONS = True
        answer = organizer_client.post(
            "/api/v1/webhooks",
            {"url": "http://127.0.0.1:9/in", "event_types": ["registration.created"]},
            format="json",
        )
        assert answer.status_code == 201, answer.content
        created = answer.json()
        assert (
            created["secret"].startswith("whsec_") and created["active"] is True and created["event"] is None
        )
        listed = organizer_client.get("/api/v1/webhooks").json()
        assert [e["id"] for e in listed["items"]] == [created["id"]] and "secret" not in listed["items"][0]
        assert "secret" not in organizer_client.get(f"/api/v1/webhooks/{created['id']}").json()

        stranger = client_for(UserFactory(roles=[Role.MEMBER, Role.ORGANIZER]))
        assert stranger.get("/api/v1/webhooks").json()["total"] == 0
        assert_error(stranger.get(f"/api/v1/webhooks/{created['id']}"), 404, "not_found")
        assert_error(member_client.get("/api/v1/webhooks"), 403, "permission_denied")
        assert_error(
            member_client.post("/api/v1/webhooks", {"url": "http://127.0.0.1/"}), 403, "permission_denied"
        )
        assert admin_client.get(f"/api/v1/webhooks/{created['id']}").status_code == 200

        rotated = organizer_client.post(f"/api/v1/webhooks/{created['id']}/rotate-secret").json()
        assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
        patched = organizer_client.patch(
            f"/api/v1/webhooks/{created['id']}", {"active": False}, format="json"
        )
        assert patched.json()["active"] is False
        assert organizer_client.delete(f"/api/v1/webhooks/{created['id']}").status_code == 204
        assert not WebhookEndpoint.objects.exists()

    def test_bad_input_is_400(self, organizer, organizer_client, settings):
        settings.WEBHOOK_ALLOW_PRIVATE_DESTINATIONS = True
        theirs = EventFactory()

        def post(body):
            return organizer_client.post("/api/v1/webhooks", body, format="json")

        foreign = post({"url": "http://127.0.0.1/", "event": str(theirs.pk)})
        assert_error(foreign, 400, "does_not_exist", "event")
        # No id at all looks the same: the answer does not tell which events exist.
        nowhere = post({"url": "http://127.0.0.1/", "event": "00000000-0000-4000-8000-000000000000"})
        assert nowhere.json() == foreign.json()
        assert_error(
            post({"url": "http://127.0.0.1/", "event_types": ["event.exploded"]}), 400, "invalid_choice"
        )
        assert_error(post({"url": "ftp://127.0.0.1/"}), 400, "unsafe_url", "url")
        assert_error(post({"url": "not a url"}), 400, "invalid", "url")
        assert_error(post({}), 400, "required", "url")
        mine = EventFactory(organizer=organizer)
        assert post({"url": "http://127.0.0.1/", "event": str(mine.pk)}).json()["event"] == str(mine.pk)

    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1/hook",
            "http://10.0.0.1/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://localhost:8000/hook",
            "http://[::1]/hook",
            "http://[::ffff:127.0.0.1]/hook",
        ],
    )
    def test_private_destinations_are_refused(self, organizer_client, url):
        assert_error(
            organizer_client.post("/api/v1/webhooks", {"url": url}, format="json"), 400, "unsafe_url", "url"
        )


class TestDelivery:
    def test_a_failing_receiver_is_retried_until_it_accepts_once(self, organizer, receiver, event):
        endpoint = endpoint_for(organizer, receiver.url)
        receiver.script = [500, 500, 500]
        registration_create(event=event, user=UserFactory())
        run_tasks()
        dispatch()
        run_tasks()
        for _ in range(3):
            later()
            run_tasks()
        (delivery,) = WebhookDelivery.objects.filter(endpoint=endpoint)
        assert (delivery.status, delivery.attempts) == ("delivered", 4)
        assert list(delivery.attempt_log.values_list("status_code", flat=True)) == [500, 500, 500, 200]
        payloads = receiver.verified(endpoint.secret)  # every signature checks out
        assert len(payloads) == 4 and len({h["webhook-id"] for h, _ in receiver.requests}) == 1
        payload = payloads[-1]
        assert payload["type"] == "registration.created"
        assert payload["data"]["event"]["id"] == str(event.pk) and payload["data"]["ticket_code"] is None
        assert payload["id"] == f"evt_{delivery.domain_event_id}"

    def test_a_receiver_down_while_50_register_gets_all_50_once_it_is_back(
        self, organizer, settings, event, django_capture_on_commit_callbacks
    ):
        settings.WEBHOOK_ALLOW_PRIVATE_DESTINATIONS = True
        server = Receiver()
        server.stop()  # down: connections are refused
        endpoint = endpoint_for(organizer, server.url, event_types=["registration.created"])
        for _ in range(50):
            with django_capture_on_commit_callbacks(execute=True):
                registration_create(event=event, user=UserFactory())
        run_tasks()
        assert WebhookDelivery.objects.filter(endpoint=endpoint, status="pending").count() == 50
        assert all(d.attempts >= 1 for d in WebhookDelivery.objects.all())

        back = Receiver(port=server.port)
        try:
            later()
            run_tasks()
            payloads = back.verified(endpoint.secret)
        finally:
            back.stop()
        assert len(payloads) == 50 and len({p["id"] for p in payloads}) == 50
        assert WebhookDelivery.objects.filter(status="delivered").count() == 50

    def test_a_4xx_fails_at_once_and_can_be_resent(self, organizer, organizer_client, receiver, event):
        endpoint = endpoint_for(organizer, receiver.url)
        receiver.script = [410]
        registration_create(event=event, user=UserFactory())
        dispatch()
        run_tasks()
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts) == ("failed", 1)
        with committed():
            answer = organizer_client.post(f"/api/v1/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/resend")
        assert answer.status_code == 202 and answer.json()["status"] == "pending"
        run_tasks()
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("delivered", 2)
        assert len({h["webhook-id"] for h, _ in receiver.requests}) == 1  # the same message again
        listed = organizer_client.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries").json()
        assert listed["total"] == 1 and [a["status_code"] for a in listed["items"][0]["attempt_log"]] == [
            410,
            200,
        ]

    def test_a_ping(self, organizer, organizer_client, receiver):
        endpoint = endpoint_for(organizer, receiver.url)
        with committed():
            answer = organizer_client.post(f"/api/v1/webhooks/{endpoint.pk}/ping")
        assert answer.status_code == 202
        run_tasks()
        (payload,) = receiver.verified(endpoint.secret)
        assert payload["type"] == "webhook.ping" and payload["data"] == {"endpoint": str(endpoint.pk)}

    def test_only_what_the_endpoints_organizer_runs(self, organizer, admin_user, receiver, event, member):
        mine = endpoint_for(organizer, receiver.url)
        only_cancels = endpoint_for(organizer, receiver.url, event_types=["registration.cancelled"])
        other_event = endpoint_for(organizer, receiver.url, event=EventFactory(organizer=organizer))
        admins = endpoint_for(admin_user, receiver.url)
        registration_create(event=EventFactory(), user=UserFactory())  # someone else's event
        registration_create(event=event, user=UserFactory())
        from accounts.services import user_grant_role

        user_grant_role(user=member, role=Role.ORGANIZER)  # no event: admins only
        dispatch()

        def sent(endpoint):
            return sorted(WebhookDelivery.objects.filter(endpoint=endpoint).values_list("type", flat=True))

        assert sent(mine) == ["registration.created"]
        assert sent(only_cancels) == [] and sent(other_event) == []
        assert sent(admins) == ["registration.created", "registration.created", "role.granted"]
        assert not DomainEvent.objects.filter(dispatched_at__isnull=True).exists()

    def test_a_refused_destination_is_never_called(self, organizer, receiver, event, settings):
        endpoint_for(organizer, receiver.url)
        settings.WEBHOOK_ALLOW_PRIVATE_DESTINATIONS = False  # stored before the rule applied
        registration_create(event=event, user=UserFactory())
        dispatch()
        run_tasks()
        attempt = WebhookDelivery.objects.get().attempt_log.get()
        assert (
            attempt.status_code is None and attempt.error.startswith("refused:") and receiver.requests == []
        )

    def test_an_endpoint_turned_off_meanwhile_is_not_called(self, organizer, receiver, event):
        endpoint = endpoint_for(organizer, receiver.url)
        registration_create(event=event, user=UserFactory())
        dispatch()
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
        run_tasks()
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == "failed" and receiver.requests == []
        assert delivery.attempt_log.get().error == "the endpoint is turned off"

    def test_a_redirect_to_a_private_address_is_refused(
        self, organizer, receiver, event, settings, monkeypatch
    ):
        endpoint = endpoint_for(organizer, receiver.url)
        settings.WEBHOOK_ALLOW_PRIVATE_DESTINATIONS = False
        monkeypatch.setattr(
            webhooks, "_public", lambda address: address == "127.0.0.1"
        )  # the receiver is "public"
        receiver.redirect_to = "http://10.0.0.1/internal"
        registration_create(event=event, user=UserFactory())
        dispatch()
        run_tasks()
        attempt = WebhookDelivery.objects.get(endpoint=endpoint).attempt_log.get()
        assert "10.0.0.1" in attempt.error and attempt.error.startswith("refused:")
        assert len(receiver.requests) == 1

    def test_an_endpoint_failing_for_days_is_turned_off_and_its_organizer_told(
        self, organizer, receiver, event, settings, django_capture_on_commit_callbacks
    ):
        endpoint = endpoint_for(organizer, receiver.url)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            failing_since=timezone.now() - timedelta(days=4)
        )
        receiver.script = [503]
        registration_create(event=event, user=UserFactory())
        dispatch()
        mail.outbox.clear()
        run_tasks()
        endpoint.refresh_from_db()
        assert endpoint.active is False and "failed since" in endpoint.disabled_reason
        assert [m.to for m in mail.outbox] == [[organizer.email]]
        assert "turned off" in mail.outbox[0].subject

    def test_the_organizers_mail_is_retried_while_the_mail_server_fails(self, organizer, monkeypatch):
        import smtplib

        from events.tasks import tell_organizer_endpoint_disabled

        endpoint = endpoint_for(organizer, "https://hooks.example.org/x", active=False)
        real, failures = (
            webhooks.send_mail,
            [smtplib.SMTPServerDisconnected("gone"), ConnectionRefusedError()],
        )

        def flaky(*args, **kwargs):
            if failures:
                raise failures.pop(0)
            return real(*args, **kwargs)

        monkeypatch.setattr(webhooks, "send_mail", flaky)
        mail.outbox.clear()
        with committed():
            tell_organizer_endpoint_disabled.enqueue(str(endpoint.pk))
        for _ in range(3):
            run_tasks()
            later()
        assert [m.to for m in mail.outbox] == [[organizer.email]]
        results = DBTaskResult.objects.filter(task_path__endswith="tell_organizer_endpoint_disabled")
        assert sorted(r.status for r in results) == ["SUCCESSFUL"] * 3  # two retries queued, then sent


def test_payloads_are_json_with_the_type_id_time_and_object(organizer, event, receiver):
    endpoint_for(organizer, receiver.url)
    registration_create(event=event, user=UserFactory())
    webhooks.dispatch()
    payload = WebhookDelivery.objects.get().payload
    assert set(payload) == {"type", "id", "timestamp", "data"}
    assert json.loads(json.dumps(payload)) == payload


class TestAdmin:
    def test_organizers_see_and_add_their_own_and_a_refused_url_is_a_form_error(
        self, client, organizer, receiver, settings
    ):
        from django.urls import reverse

        mine = endpoint_for(organizer, receiver.url)
        theirs = endpoint_for(UserFactory(roles=[Role.MEMBER, Role.ORGANIZER]), receiver.url + "/theirs")
        client.force_login(organizer)
        page = client.get(reverse("admin:events_webhookendpoint_changelist"))
        assert page.status_code == 200 and str(mine.pk) in page.content.decode()
        assert str(theirs.pk) not in page.content.decode()
        assert client.get(reverse("admin:events_webhookendpoint_change", args=[theirs.pk])).status_code == 404

        add = reverse("admin:events_webhookendpoint_add")
        form = {"url": receiver.url + "/new", "event_types": "[]", "event": "", "active": "on"}
        assert client.post(add, form).status_code == 302
        assert WebhookEndpoint.objects.filter(organizer=organizer, url=receiver.url + "/new").exists()
        settings.WEBHOOK_ALLOW_PRIVATE_DESTINATIONS = False
        refused = client.post(add, {**form, "url": "http://10.0.0.1/x"}, follow=False)
        assert refused.status_code == 200 and "not a public address" in refused.content.decode()

    def test_deliveries_are_listed_read_only_and_can_be_resent(self, client, organizer, receiver, event):
        from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
        from django.urls import reverse

        endpoint_for(organizer, receiver.url)
        receiver.script = [404]
        registration_create(event=event, user=UserFactory())
        dispatch()
        run_tasks()
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == "failed"
        client.force_login(organizer)
        changelist = reverse("admin:events_webhookdelivery_changelist")
        assert client.get(changelist).status_code == 200
        assert (
            client.get(reverse("admin:events_webhookdelivery_change", args=[delivery.pk])).status_code == 200
        )
        with committed():
            answer = client.post(changelist, {"action": "resend", ACTION_CHECKBOX_NAME: [delivery.pk]})
        assert answer.status_code == 302
        run_tasks()
        delivery.refresh_from_db()
        assert delivery.status == "delivered"


class TestReviewFindings:
    """Hardening found in review: each failed before its fix."""

    def test_a_deactivated_organizers_endpoint_hears_nothing(self, organizer, receiver, event):
        endpoint_for(organizer, receiver.url)
        type(organizer).objects.filter(pk=organizer.pk).update(is_active=False)
        registration_create(event=event, user=UserFactory())
        dispatch()
        assert not WebhookDelivery.objects.exists()

    @pytest.mark.parametrize(
        "address",
        ["64:ff9b::a9fe:a9fe", "2002:7f00:1::", "::7f00:1", "::ffff:10.0.0.1", "fd00::1", "fe80::1"],
    )
    def test_ipv6_forms_of_private_ipv4_are_not_public(self, address):
        assert not webhooks._public(address)

    def test_the_refusal_does_not_name_the_resolved_address(self, organizer_client):
        body = organizer_client.post(
            "/api/v1/webhooks", {"url": "http://localhost:8000/x"}, format="json"
        ).json()
        assert "127.0.0.1" not in str(body) and "not a public address" in str(body)

    def test_a_receiver_answering_nul_bytes_is_recorded_not_stuck(
        self, organizer, receiver, event, monkeypatch
    ):
        endpoint_for(organizer, receiver.url)
        monkeypatch.setattr(webhooks, "_post", lambda *args: (200, "", "ok\x00binary"))
        registration_create(event=event, user=UserFactory())
        dispatch()
        run_tasks()
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == "delivered" and delivery.attempt_log.get().response_excerpt == "okbinary"

    def test_an_unexpected_error_is_a_failed_attempt(self, organizer, receiver, event, monkeypatch):
        endpoint_for(organizer, receiver.url)

        def explode(*args):
            raise ValueError("bad redirect")

        monkeypatch.setattr(webhooks, "_post_once", explode)
        registration_create(event=event, user=UserFactory())
        dispatch()
        run_tasks()
        attempt = WebhookDelivery.objects.get().attempt_log.get()
        assert attempt.status_code is None and attempt.error == "ValueError: bad redirect"

    def test_a_worker_that_lost_its_claim_does_not_overwrite_the_outcome(self, organizer, receiver, event):
        endpoint = endpoint_for(organizer, receiver.url)
        registration_create(event=event, user=UserFactory())
        dispatch()
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        # Another worker took it over and delivered it meanwhile.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status="delivered", claimed_until=None)
        stale_claim = timezone.now()
        assert webhooks._attempt(delivery, claim=stale_claim) == "skipped"
        delivery.refresh_from_db()
        assert delivery.status == "delivered" and delivery.attempts == 0

    def test_the_admin_form_refuses_bad_event_types(self, client, organizer, receiver):
        from django.urls import reverse

        client.force_login(organizer)
        add = reverse("admin:events_webhookendpoint_add")
        for bad in ('["event.exploded"]', "5", "[[1]]"):
            answer = client.post(add, {"url": receiver.url, "event_types": bad, "event": "", "active": "on"})
            assert answer.status_code == 200 and "domain event types" in answer.content.decode(), bad
        assert not WebhookEndpoint.objects.exists()

    def test_a_lookup_that_hangs_is_a_503_in_the_api_and_a_form_error_in_the_admin(
        self, organizer, organizer_client, client, settings, slow_dns
    ):
        from django.urls import reverse

        settings.WEBHOOK_TIMEOUT_SECONDS = 0.2
        started = time.monotonic()
        answer = organizer_client.post(
            "/api/v1/webhooks", {"url": "https://slow-dns.example.org/x"}, format="json"
        )
        assert time.monotonic() - started < 2
        assert_error(answer, 503, "service_unavailable")
        assert answer["Retry-After"] == "5" and "did not resolve in time" in str(answer.json())
        mine = endpoint_for(organizer, "https://hooks.example.org/x")
        patched = organizer_client.patch(
            f"/api/v1/webhooks/{mine.pk}", {"url": "https://slow-dns.example.org/y"}, format="json"
        )
        assert_error(patched, 503, "service_unavailable")
        client.force_login(organizer)
        form = {"url": "https://slow-dns.example.org/z", "event_types": "[]", "event": "", "active": "on"}
        page = client.post(reverse("admin:events_webhookendpoint_add"), form)
        assert page.status_code == 200 and "Try again in a moment" in page.content.decode()
        # Bad input is a 400 whatever DNS does: the lookup comes last.
        bad = organizer_client.post(
            "/api/v1/webhooks",
            {"url": "https://slow-dns.example.org/x", "event_types": ["event.exploded"]},
            format="json",
        )
        assert_error(bad, 400, "invalid_choice", "event_types.0")
        assert WebhookEndpoint.objects.get().url == "https://hooks.example.org/x"

    def test_the_admin_looks_the_url_up_once(self, organizer, client, settings, monkeypatch):
        """The form checks the URL; saving must not look it up again (a
        second lookup failing there had no form to show its error: a 500)."""
        from django.urls import reverse

        settings.WEBHOOK_ALLOW_PRIVATE_DESTINATIONS = True
        lookups = []
        real = webhooks.socket.getaddrinfo

        def counted(host, *args, **kwargs):
            lookups.append(host)
            if len(lookups) > 1:
                raise OSError("DNS went away")
            return real("127.0.0.1", *args, **kwargs)

        monkeypatch.setattr(webhooks.socket, "getaddrinfo", counted)
        client.force_login(organizer)
        form = {"url": "https://hooks.example.org/new", "event_types": "[]", "event": "", "active": "on"}
        assert client.post(reverse("admin:events_webhookendpoint_add"), form).status_code == 302
        assert lookups == ["hooks.example.org"]
        assert WebhookEndpoint.objects.get().url == "https://hooks.example.org/new"

    def test_one_deadline_covers_every_redirect_of_an_attempt(self, organizer, receiver, event, settings):
        """A receiver that redirects to itself, slowly: each hop alone is
        within the timeout, all of them together are not."""
        settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
        settings.WEBHOOK_MAX_REDIRECTS = 20
        receiver.redirect_to = receiver.url
        receiver.answer = lambda number: time.sleep(0.15)
        endpoint_for(organizer, receiver.url)
        registration_create(event=event, user=UserFactory())
        dispatch()
        run_tasks()
        attempt = WebhookDelivery.objects.get().attempt_log.get()
        # Out of time: between hops, in a lookup, or waiting for an answer.
        assert attempt.status_code is None
        assert any(what in attempt.error for what in ("no answer in 0.5 s", "did not resolve", "timed out"))
        assert attempt.duration_ms < 2000 and len(receiver.requests) <= 5

    def test_a_receiver_that_trickles_its_answer_is_cut_at_the_deadline(self, organizer, event, settings):
        """One byte every 50 ms: each read is well within the socket
        timeout, the whole answer never ends (it would take 10 s)."""
        import socket as sockets

        settings.WEBHOOK_ALLOW_PRIVATE_DESTINATIONS = True
        settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
        server = sockets.socket()
        server.bind(("127.0.0.1", 0))
        server.listen()

        def trickle() -> None:
            connection, _ = server.accept()
            with connection:
                connection.recv(65536)
                for byte in b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"y" * 200:
                    try:
                        connection.sendall(bytes([byte]))
                    except OSError:
                        return  # cut by the watchdog
                    time.sleep(0.05)

        thread = threading.Thread(target=trickle, daemon=True)
        thread.start()
        endpoint_for(organizer, f"http://127.0.0.1:{server.getsockname()[1]}/slow")
        registration_create(event=event, user=UserFactory())
        dispatch()
        started = time.monotonic()
        run_tasks()
        elapsed = time.monotonic() - started
        thread.join(timeout=15)
        server.close()
        attempt = WebhookDelivery.objects.get().attempt_log.get()
        assert (attempt.status_code, attempt.error) == (None, "no answer in 0.5 s")
        assert elapsed < 3 and attempt.duration_ms < 2000

    def test_names_that_never_resolve_do_not_hold_up_other_lookups(self, settings, slow_dns):
        settings.WEBHOOK_ALLOW_PRIVATE_DESTINATIONS = True
        for _ in range(8):  # more than any pool of lookup threads would hold
            with pytest.raises(webhooks.LookupTimeoutError):
                webhooks.check_destination("https://slow-dns.example.org/x", timeout=0.05)
        started = time.monotonic()
        assert webhooks.check_destination("https://hooks.example.org/x", timeout=2)[0] == "127.0.0.1"
        assert time.monotonic() - started < 1


def test_the_housekeeping_forgets_old_finished_deliveries_and_the_outbox_rows_nobody_needs(
    organizer, receiver, event
):
    from eventmaster.tasks import _HOUSEKEEPING
    from events.models import WebhookAttempt

    assert webhooks.prune in _HOUSEKEEPING
    endpoint_for(organizer, receiver.url, event_types=["registration.created"])
    receiver.script = [200, 410, 503]  # delivered, failed, pending (a retry)
    for _ in range(3):
        registration_create(event=event, user=UserFactory())
    dispatch()
    run_tasks()
    assert sorted(WebhookDelivery.objects.values_list("status", flat=True)) == [
        "delivered",
        "failed",
        "pending",
    ]
    registration_create(
        event=event, user=UserFactory()
    )  # undispatched: not for this endpoint? it is, but waits
    month_ago = timezone.now() - timedelta(days=31)
    WebhookDelivery.objects.update(created_at=month_ago)
    DomainEvent.objects.exclude(dispatched_at=None).update(occurred_at=month_ago, dispatched_at=month_ago)
    DomainEvent.objects.filter(dispatched_at=None).update(occurred_at=month_ago)
    assert DomainEvent.objects.count() == 4  # 3 dispatched, 1 waiting

    first = webhooks.prune(batch=1)  # a batch at a time
    second = webhooks.prune()
    assert first[0] == 1 and first[0] + second[0] == 2  # the delivered and the failed one
    assert first[1] == 1 and first[1] + second[1] == 3  # the dispatched domain events
    assert list(WebhookDelivery.objects.values_list("status", flat=True)) == ["pending"]
    assert WebhookAttempt.objects.count() == 1  # the pending one's
    pending = WebhookDelivery.objects.get()
    assert pending.domain_event_id is None and pending.payload["type"] == "registration.created"
    assert list(DomainEvent.objects.values_list("dispatched_at", flat=True)) == [None]  # waits for dispatch
    assert webhooks.prune() == (0, 0)


def test_recent_deliveries_and_outbox_rows_are_kept(organizer, receiver, event, settings):
    endpoint_for(organizer, receiver.url)
    registration_create(event=event, user=UserFactory())
    dispatch()
    run_tasks()
    six_days_ago = timezone.now() - timedelta(days=6)
    DomainEvent.objects.update(dispatched_at=six_days_ago)
    assert webhooks.prune() == (0, 0)
    settings.DOMAIN_EVENT_KEEP_DAYS = 5
    assert webhooks.prune() == (0, 1)  # its delivery keeps the payload (30 days)
    assert WebhookDelivery.objects.get().status == "delivered"
    settings.WEBHOOK_DELIVERY_KEEP_DAYS = 0
    assert webhooks.prune() == (1, 0)


def test_a_delivery_forgotten_before_its_resend_is_a_404(organizer, organizer_client, receiver, event):
    endpoint = endpoint_for(organizer, receiver.url)
    registration_create(event=event, user=UserFactory())
    dispatch()
    run_tasks()
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).delete()
    with pytest.raises(WebhookDelivery.DoesNotExist):
        webhooks.resend(delivery)
    answer = organizer_client.post(f"/api/v1/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/resend")
    assert_error(answer, 404, "not_found")
