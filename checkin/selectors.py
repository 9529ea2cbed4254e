"""Door statistics, computed by the database (two queries), and the door
bundle for offline devices."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Count, F, Q
from django.db.models.functions import TruncMinute
from django.db.models.functions.datetime import TruncBase
from django.utils import timezone

from events.models import Event
from registrations import signing
from registrations.models import Registration
from registrations.selectors import registration_door_counts

from .models import Scan


def checkin_stats(*, event: Event) -> dict[str, Any]:
    """The door counts (registrations.selectors.registration_door_counts:
    the event's counter columns and one aggregate) and the arrivals."""
    return {
        **registration_door_counts(event=event),
        "arrivals": checkin_arrivals(event=event, bucket=TruncMinute),
    }


def checkin_arrivals(*, event: Event, bucket: type[TruncBase] = TruncMinute) -> list[dict[str, Any]]:
    """Arrivals per time bucket, from the scan log: the ``ok`` scan that
    checked each currently checked-in registration in (an undone check-in is
    no arrival; a re-check-in counts once, at its latest time)."""
    rows = (
        Scan.objects.filter(
            event=event,
            result=Scan.Result.OK,
            registration__checked_in_at=F("created_at"),
        )
        .annotate(bucket=bucket("created_at"))
        .values("bucket")
        .annotate(count=Count("id"))
        .order_by("bucket")
    )
    return [{"minute": row["bucket"], "count": row["count"]} for row in rows]


# A registration committed after the bundle was read may carry an earlier
# time (it was written, not yet committed): a delta reaches back this far.
BUNDLE_OVERLAP = timedelta(seconds=60)


def door_bundle(*, event: Event, since: datetime | None = None) -> dict[str, Any]:
    """What a door device needs to answer offline (docs/api.md, "The door
    bundle"): the event, its public ticket keys, the confirmed attendees as
    (registration id, name, check-in time, inside now, checking-in device) and the cancelled
    tickets' ids (checkin.serializers.render_door_bundle renders it). With ``since`` (a previous bundle's
    ``version``) only the registrations changed after it: new, cancelled or
    promoted ones, and those with a scan since (an entry, an exit, an undo),
    found by the scan log's (event, created_at) index. Three queries,
    whatever the size."""
    version = timezone.now()
    registrations = Registration.objects.filter(event=event)
    if since is not None:
        after = since - BUNDLE_OVERLAP
        scanned = Scan.objects.filter(event=event, created_at__gt=after, registration__isnull=False)
        registrations = registrations.filter(
            Q(created_at__gt=after)
            | Q(cancelled_at__gt=after)
            | Q(promoted_at__gt=after)
            | Q(pk__in=scanned.values("registration_id"))
        )
    attendees: list[tuple[Any, ...]] = []
    revoked: list[Any] = []
    rows = registrations.filter(
        status__in=(Registration.Status.CONFIRMED, Registration.Status.CANCELLED)
    ).values_list("pk", "status", "user__full_name", "checked_in_at", "exited", "checked_in_device")
    for pk, status, name, checked_in_at, exited, device in rows.order_by("created_at", "pk").iterator(
        chunk_size=5000
    ):
        if status == Registration.Status.CONFIRMED:
            attendees.append((pk, name, checked_in_at, checked_in_at is not None and not exited, device))
        else:
            revoked.append(pk)
    return {
        "event": event,
        "version": bundle_version(version),
        "full": since is None,
        "keys": signing.ticket_keys_public(event.pk),
        "attendees": attendees,
        "revoked": revoked,
    }


def bundle_version(at: datetime) -> str:
    """A bundle's version: its time in microseconds since the epoch, as text."""
    return str(int(at.timestamp() * 1_000_000))


def bundle_since(version: str) -> datetime | None:
    """The time of a bundle ``version``; None if it is not one."""
    if not re.fullmatch(r"[0-9]{1,17}", version):
        return None
    try:
        return datetime.fromtimestamp(int(version) / 1_000_000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None
