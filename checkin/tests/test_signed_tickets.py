"""Signed tickets (registrations.signing) at the door, and the door bundle
(GET /events/{id}/door-bundle), on both databases."""

import base64
import gzip
import json
import uuid
from datetime import timedelta

import pytest
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from checkin.models import Scan
from checkin.tests.test_api_checkin import body_of
from eventmaster.tests.utils import assert_error, client_for
from events.models import Event
from events.tests.factories import EventFactory
from registrations import signing
from registrations.models import Registration, TicketKey
from registrations.services import registration_cancel, registration_create
from registrations.tickets import ticket_qr

pytestmark = pytest.mark.django_db


def encode(raw: bytes) -> str:
    return signing.PREFIX + base64.b32encode(raw).rstrip(b"=").decode()


def raw_of(code: str) -> bytes:
    text = code[len(signing.PREFIX) :]
    return base64.b32decode(text + "=" * (-len(text) % 8))


class TestFormat:
    def test_a_signed_ticket_names_its_event_registration_and_key_and_verifies(self, registration):
        code = signing.sign(registration)
        ticket = signing.verified(code)
        key = TicketKey.objects.get(event=registration.event)
        assert ticket is not None
        assert (ticket.event_id, ticket.registration_id, ticket.kid) == (
            registration.event_id,
            registration.pk,
            key.kid,
        )
        assert code.startswith("EM1.") and len(code) == 164
        # Short enough for a small QR code a cheap camera reads at arm's length.
        assert segno.make(code, error="m", micro=False).version <= 7
        assert signing.sign(registration) == code  # Ed25519 is deterministic: one ticket, one code

    def test_tampered_forged_and_malformed_tickets_do_not_verify(self, registration, event):
        code = signing.sign(registration)
        raw = raw_of(code)
        other = registration_create(event=event, user=UserFactory())
        # Another registration's id with this signature.
        swapped = raw[:16] + other.pk.bytes + raw[32:]
        # The signature itself altered.
        flipped = raw[:-1] + bytes([raw[-1] ^ 1])
        # A well-formed ticket signed by a key that is not the event's (same key id).
        body = raw[:36]
        forged = body + Ed25519PrivateKey.generate().sign(signing.DOMAIN + body)
        # The event's own key id, claimed for another event.
        elsewhere = EventFactory().pk.bytes + raw[16:]
        for bad in (swapped, flipped, forged, elsewhere):
            assert signing.verified(encode(bad)) is None
        for garbage in (
            "EM1.",
            "EM1.!!!",
            "EM1." + "A" * 134,
            code + "=",
            code[:-1],
            code + "A",
            "EM2." + code[4:],
        ):
            assert signing.verified(garbage) is None, garbage
        assert signing.verified(code) is not None

    def test_a_rotated_key_keeps_its_tickets_valid_and_new_ones_use_the_new_key(self, registration, event):
        before = signing.sign(registration)
        old = TicketKey.objects.get(event=event)
        new = signing.ticket_key_rotate(event.pk)
        assert new.kid != old.kid
        after = signing.sign(registration)
        assert after != before
        assert signing.verified(before).kid == old.kid and signing.verified(after).kid == new.kid
        keys = signing.ticket_keys_public(event.pk)
        assert [(k["kid"], k["retired"]) for k in keys] == [(old.kid, True), (new.kid, False)]
        assert TicketKey.objects.filter(event=event, retired_at__isnull=True).count() == 1

    def test_one_active_key_per_event_made_on_first_use(self, event):
        first = signing.ticket_key_active(event.pk)
        assert signing.ticket_key_active(event.pk) == first
        with pytest.raises(IntegrityError), transaction.atomic():  # the constraint: one active key
            signing._new_key(event.pk)


class TestAtTheDoor:
    def test_checkin_takes_the_signed_ticket_and_the_code_alike(self, scan, registration, event):
        body = body_of(scan(signing.sign(registration)), "ok")
        assert body["registration"]["id"] == str(registration.pk)
        body_of(scan(registration.ticket_code), "already_checked_in")
        assert list(Scan.objects.order_by("id").values_list("result", flat=True)) == [
            "ok",
            "already_checked_in",
        ]
        assert Scan.objects.first().ticket_code.startswith("EM1.")  # logged as scanned

    def test_refusals_of_signed_tickets(self, scan, registration, event, organizer, member):
        elsewhere = EventFactory(organizer=organizer)
        theirs = registration_create(event=elsewhere, user=UserFactory())
        assert body_of(scan(signing.sign(theirs)), "wrong_event")["registration"]["event"]["id"] == str(
            elsewhere.pk
        )
        raw = raw_of(signing.sign(registration))
        assert body_of(scan(encode(raw[:-1] + bytes([raw[-1] ^ 1]))), "invalid")["registration"] is None
        signed = signing.sign(registration)
        registration_cancel(registration=registration, by=member)
        body_of(scan(signed), "cancelled")

    def test_undo_and_a_nonce_retry_with_a_signed_ticket(self, scan, registration):
        signed, nonce = signing.sign(registration), str(uuid.uuid4())
        body_of(scan(signed, nonce=nonce), "ok")
        body_of(scan(signed, nonce=nonce), "ok")  # the retry: the same answer, nothing written
        assert Scan.objects.count() == 1
        body_of(scan(signed, path="/api/v1/checkin/undo"), "undone")

    def test_the_qr_code_and_the_mail_carry_the_signed_ticket(self, member_client, registration):
        svg = member_client.get(f"/api/v1/registrations/{registration.pk}/qr.svg")
        assert svg.status_code == 200
        assert svg.content == ticket_qr(signing.sign(registration), "svg")


@pytest.fixture
def bundle(organizer_client, event):
    def get(*, client=None, since=None, event_id=None):
        query = f"?since={since}" if since is not None else ""
        return (client or organizer_client).get(f"/api/v1/events/{event_id or event.pk}/door-bundle{query}")

    return get


class TestDoorBundle:
    def test_keys_attendees_and_cancelled_tickets(self, bundle, event, member):
        ann = registration_create(event=event, user=UserFactory(full_name="Ann"))
        bob = registration_create(event=event, user=UserFactory(full_name="Bob"))
        gone = registration_create(event=event, user=member)
        registration_cancel(registration=gone, by=member)
        waiting_event = Event.objects.get(pk=event.pk)
        for _ in range(waiting_event.capacity - waiting_event.confirmed_count):
            registration_create(event=event, user=UserFactory())
        waitlisted = registration_create(event=event, user=UserFactory())
        assert waitlisted.status == "waitlisted"
        signing.sign(ann)  # the event's key exists
        answer = bundle()
        assert answer.status_code == 200, answer.content
        body = answer.json()
        key = TicketKey.objects.get(event=event)
        assert body["keys"] == [
            {"kid": key.kid, "public_key": base64.urlsafe_b64encode(bytes(key.public_key)).rstrip(b"=").decode(),
             "retired": False}
        ]  # fmt: skip
        assert "private" not in answer.content.decode()
        tickets = {a["ticket_id"]: a for a in body["attendees"]}
        assert str(waitlisted.pk) not in tickets and str(gone.pk) not in tickets
        assert tickets[str(ann.pk)] == {
            "ticket_id": str(ann.pk),
            "name": "Ann",
            "checked_in_at": None,
            "inside": False,
            "checked_in_device": "",
        }
        assert str(bob.pk) in tickets and len(tickets) == Event.objects.get(pk=event.pk).confirmed_count
        assert body["revoked"] == [str(gone.pk)]
        assert body["full"] is True and body["event"]["id"] == str(event.pk) and body["version"].isdigit()

    def test_since_a_version_only_what_changed(self, bundle, scan, event, member):
        ann = registration_create(event=event, user=UserFactory(full_name="Ann"))
        bob = registration_create(event=event, user=member)
        first = bundle().json()
        # Everything before the version, older than the overlap window.
        long_ago = timezone.now() - timedelta(minutes=5)
        Registration.objects.filter(event=event).update(created_at=long_ago)
        assert bundle(since=first["version"]).json()["attendees"] == []
        registration_cancel(registration=bob, by=member)
        body_of(scan(ann.ticket_code), "ok")
        carl = registration_create(event=event, user=UserFactory(full_name="Carl"))
        delta = bundle(since=first["version"]).json()
        assert delta["full"] is False and delta["revoked"] == [str(bob.pk)]
        changed = {a["ticket_id"]: a for a in delta["attendees"]}
        assert set(changed) == {str(ann.pk), str(carl.pk)} and changed[str(ann.pk)]["checked_in_at"]
        assert int(delta["version"]) > int(first["version"])

    def test_a_bad_version_is_400(self, bundle):
        bad_versions = (
            ("yesterday", "invalid"), ("-5", "invalid"), ("\u00b2", "invalid"), ("9" * 20, "invalid"),
            ("1" * 21, "max_length"),
        )  # fmt: skip
        for bad, code in bad_versions:
            assert_error(bundle(since=bad), 400, code, "since")
        assert bundle(since="").json()["full"] is True  # empty: as if left out

    def test_exits_re_entries_and_undos_are_in_the_delta(self, bundle, scan, event):
        ann = registration_create(event=event, user=UserFactory(full_name="Ann"))
        body_of(scan(ann.ticket_code, device="door-7"), "ok")
        Registration.objects.filter(event=event).update(created_at=timezone.now() - timedelta(minutes=5))
        Scan.objects.update(created_at=timezone.now() - timedelta(minutes=5))
        Registration.objects.filter(pk=ann.pk).update(checked_in_at=timezone.now() - timedelta(minutes=5))
        version = bundle().json()["version"]
        assert bundle(since=version).json()["attendees"] == []
        body_of(scan(ann.ticket_code, direction="out"), "ok")
        (row,) = bundle(since=version).json()["attendees"]
        assert row["ticket_id"] == str(ann.pk) and row["inside"] is False and row["checked_in_at"]
        assert row["checked_in_device"] == "door-7"  # the first entry's
        body_of(scan(ann.ticket_code, path="/api/v1/checkin/undo"), "undone")
        (row,) = bundle(since=version).json()["attendees"]
        assert row["checked_in_at"] is None and row["inside"] is False

    def test_compressed_for_clients_that_accept_it(self, organizer_client, event):
        for name in ("Ann", "Bob"):
            registration_create(event=event, user=UserFactory(full_name=name))
        url = f"/api/v1/events/{event.pk}/door-bundle"
        plain = organizer_client.get(url)
        packed = organizer_client.get(url, headers={"Accept-Encoding": "gzip, br"})
        assert "Content-Encoding" not in plain and packed["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in packed["Vary"]
        unpacked = json.loads(gzip.decompress(packed.content))
        assert unpacked["attendees"] == plain.json()["attendees"] and len(unpacked["attendees"]) == 2
        assert len(packed.content) < len(plain.content)

    def test_who_may_fetch_it(self, bundle, event, staff_client, member_client, api_client, admin_client):
        assert bundle(client=staff_client).status_code == 200
        assert bundle(client=admin_client).status_code == 200
        elsewhere_staff = client_for(UserFactory(roles=["member", "checkin"]))
        assert_error(bundle(client=elsewhere_staff), 403, "permission_denied")
        assert_error(bundle(client=member_client), 403, "permission_denied")
        assert_error(bundle(client=api_client), 401, "not_authenticated")
        draft = EventFactory(status=Event.Status.DRAFT)
        assert_error(bundle(client=member_client, event_id=draft.pk), 404, "not_found")

    def test_queries_do_not_grow_with_the_attendees(self, bundle, event):
        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                assert bundle().status_code == 200
            return len(captured)

        registration_create(event=event, user=UserFactory())
        few = queries()
        for _ in range(2):
            registration_create(event=event, user=UserFactory())
        assert queries() == few


def test_the_rotate_command(event, registration):
    from io import StringIO

    from django.core.management import CommandError, call_command

    before = signing.sign(registration)
    out = StringIO()
    call_command("rotate_ticket_key", str(event.pk), stdout=out)
    active = TicketKey.objects.get(event=event, retired_at__isnull=True)
    assert f"New ticket key {active.kid}" in out.getvalue()
    assert signing.verified(before) is not None and signing.sign(registration) != before
    for bad in ("not-a-uuid", str(uuid.uuid4())):
        with pytest.raises(CommandError):
            call_command("rotate_ticket_key", bad)


@pytest.mark.django_db(transaction=True)
def test_a_signed_ticket_is_verified_once_per_scan(scan, registration, monkeypatch):
    """A scan that tries the one-statement first entry and then the general
    path (a second scan: already inside) checks the signature once."""
    ticket = signing.sign(registration)
    body_of(scan(ticket), "ok")
    calls = []
    verified = signing.verified

    def counting(code):
        calls.append(code)
        return verified(code)

    monkeypatch.setattr(signing, "verified", counting)
    body_of(scan(ticket), "already_checked_in")
    assert calls == [ticket]
