"""Door statistics, computed by the database (two queries)."""

from typing import Any

from django.db.models import Count, F
from django.db.models.functions import TruncMinute
from django.db.models.functions.datetime import TruncBase

from events.models import Event
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
