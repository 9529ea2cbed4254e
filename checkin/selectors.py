"""Door statistics, computed by the database (two queries)."""

from django.db.models import Count, F, Q
from django.db.models.functions import TruncMinute

from events.models import Event
from registrations.models import Registration

from .models import Scan


def checkin_stats(*, event: Event) -> dict:
    status = Registration.Status
    counts = Registration.objects.filter(event=event).aggregate(
        confirmed=Count("pk", filter=Q(status=status.CONFIRMED)),
        checked_in=Count("pk", filter=Q(status=status.CONFIRMED, checked_in_at__isnull=False)),
        waitlisted=Count("pk", filter=Q(status=status.WAITLISTED)),
        cancelled=Count("pk", filter=Q(status=status.CANCELLED)),
    )
    return {
        "confirmed": counts["confirmed"],
        "checked_in": counts["checked_in"],
        "not_checked_in": counts["confirmed"] - counts["checked_in"],
        "waitlisted": counts["waitlisted"],
        "cancelled": counts["cancelled"],
        "arrivals": checkin_arrivals(event=event, bucket=TruncMinute),
    }


def checkin_arrivals(*, event: Event, bucket=TruncMinute) -> list[dict]:
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
