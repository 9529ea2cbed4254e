"""The door dashboard's bar chart: arrivals per 15 minutes as an SVG, drawn
on the server (nothing loaded from a CDN, readable on a laptop at the door)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from events.models import Event

from .selectors import checkin_arrivals

BUCKET = timedelta(minutes=15)
WIDTH, HEIGHT, PAD = 720, 240, 28


@dataclass(frozen=True)
class Bar:
    start: datetime
    count: int
    x: float
    y: float
    width: float
    height: float


def arrivals_per_quarter(*, event: Event) -> list[tuple[datetime, int]]:
    """Per-minute arrivals from the database, summed into 15-minute buckets,
    with empty buckets between the first and the last arrival."""
    buckets: dict[datetime, int] = {}
    for row in checkin_arrivals(event=event):
        minute = row["minute"]
        start = minute.replace(minute=minute.minute - minute.minute % 15, second=0, microsecond=0)
        buckets[start] = buckets.get(start, 0) + row["count"]
    if not buckets:
        return []
    filled, current = [], min(buckets)
    while current <= max(buckets):
        filled.append((current, buckets.get(current, 0)))
        current += BUCKET
    return filled


def chart_bars(series: list[tuple[datetime, int]]) -> list[Bar]:
    if not series:
        return []
    peak = max(count for _, count in series) or 1
    slot = min((WIDTH - 2 * PAD) / len(series), 64)  # a few buckets stay bars, not blocks
    bars = []
    for index, (start, count) in enumerate(series):
        height = (HEIGHT - 2 * PAD) * count / peak
        bars.append(
            Bar(start, count, PAD + index * slot + slot * 0.1, HEIGHT - PAD - height, slot * 0.8, height)
        )
    return bars
