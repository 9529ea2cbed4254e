"""Signed tickets: a QR code a door device can check without the network.

A confirmed registration's QR code carries::

    EM1.<base32(event id (16 bytes) | registration id (16) | key id (4) | Ed25519 signature (64))>

164 characters of the QR code's alphanumeric alphabet (base32: A-Z and
2-7, no padding), so the code is a version-7 QR code (45 modules square)
at error correction M, where base64 in byte mode would need version 8. The signature
covers the domain tag ``eventmaster-ticket-v1`` and the 36 bytes before
it, so it binds the ticket to its event and its key. Each event has its own
key pair (``TicketKey``), made when its first ticket is signed; the private
key never leaves the server, the public keys go to door devices in the
door bundle (``GET /events/{id}/door-bundle``). Rotating a key
(``ticket_key_rotate``) retires it: tickets it signed stay valid, new ones
are signed by the new key.

The random ``ticket_code`` keeps working wherever a code is typed or
scanned online (``/checkin`` takes both forms). A signed ticket names its
registration but is not a secret of its own: anyone holding it holds the
ticket, as with the code.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from django.db import IntegrityError, transaction
from django.utils import timezone

from eventmaster import db

from .models import Registration, TicketKey

PREFIX = "EM1."
DOMAIN = b"eventmaster-ticket-v1"
_BODY = 16 + 16 + 4
_SIGNATURE = 64


@dataclass(frozen=True)
class SignedTicket:
    event_id: uuid.UUID
    registration_id: uuid.UUID
    kid: int
    body: bytes
    signature: bytes


def is_signed(code: str) -> bool:
    return code.startswith(PREFIX)


def parse(code: str) -> SignedTicket | None:
    """The parts of a signed ticket, unchecked; None if it is not one."""
    if not is_signed(code):
        return None
    text = code[len(PREFIX) :]
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != _BODY + _SIGNATURE or _b32(raw) != text:
        return None  # one spelling per ticket: no padding, no stray characters
    body, signature = raw[:_BODY], raw[_BODY:]
    return SignedTicket(
        event_id=uuid.UUID(bytes=body[:16]),
        registration_id=uuid.UUID(bytes=body[16:32]),
        kid=int.from_bytes(body[32:36], "big"),
        body=body,
        signature=signature,
    )


def verified(code: str) -> SignedTicket | None:
    """The signed ticket ``code`` if its signature is good by a key of its
    event (retired or not); None for a forged, altered or foreign one."""
    ticket = parse(code)
    if ticket is None:
        return None
    public_key = _public_key(ticket.event_id, ticket.kid)
    if public_key is None:
        return None
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(ticket.signature, DOMAIN + ticket.body)
    except InvalidSignature:
        return None
    return ticket


@lru_cache(maxsize=4096)
def _public_key(event_id: uuid.UUID, kid: int) -> bytes | None:
    # A key never changes once made (it is only retired): safe to keep. A
    # miss is kept too: a ticket cannot name a key before the key exists.
    row = TicketKey.objects.filter(event_id=event_id, kid=kid).values_list("public_key", flat=True).first()
    return bytes(row) if row is not None else None


def sign(registration: Registration) -> str:
    """The signed ticket of ``registration`` by its event's active key."""
    key = ticket_key_active(registration.event_id)
    body = registration.event_id.bytes + registration.pk.bytes + key.kid.to_bytes(4, "big")
    signature = Ed25519PrivateKey.from_private_bytes(bytes(key.private_key)).sign(DOMAIN + body)
    return PREFIX + _b32(body + signature)


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).rstrip(b"=").decode()


def ticket_key_active(event_id: Any) -> TicketKey:
    """The event's active key, made on first use (two first uses at once:
    the one-active-key constraint keeps one, the other reads it)."""
    key = TicketKey.objects.filter(event_id=event_id, retired_at__isnull=True).first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            return _new_key(event_id)
    except IntegrityError:
        return TicketKey.objects.get(event_id=event_id, retired_at__isnull=True)


@transaction.atomic
def ticket_key_rotate(event_id: Any) -> TicketKey:
    """Retire the event's active key (its tickets stay valid) and make a new
    one, which signs every ticket from now on. Two rotations at once take
    turns on the event's row."""
    from events.models import Event

    db.lock_row(Event, event_id)
    TicketKey.objects.select_for_update().filter(event_id=event_id, retired_at__isnull=True).update(
        retired_at=timezone.now()
    )
    return _new_key(event_id)


def ticket_keys_public(event_id: Any) -> list[dict[str, Any]]:
    """The event's public keys, as the door bundle shows them."""
    return [
        {
            "kid": kid,
            "public_key": base64.urlsafe_b64encode(bytes(public)).rstrip(b"=").decode(),
            "retired": retired_at is not None,
        }
        for kid, public, retired_at in TicketKey.objects.filter(event_id=event_id)
        .order_by("created_at")
        .values_list("kid", "public_key", "retired_at")
    ]


def _new_key(event_id: Any) -> TicketKey:
    private = Ed25519PrivateKey.generate()
    taken = set(TicketKey.objects.filter(event_id=event_id).values_list("kid", flat=True))
    kid = secrets.randbits(32)
    while kid in taken:
        kid = secrets.randbits(32)
    return TicketKey.objects.create(
        event_id=event_id,
        kid=kid,
        private_key=private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()),
        public_key=private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
    )
