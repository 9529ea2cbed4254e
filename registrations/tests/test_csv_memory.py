"""The attendee CSV streams: peak memory does not grow with the row count.
(bench/csv_memory.py shows the same at 10,000 vs 100,000 rows.)"""

import tracemalloc

import pytest

from eventmaster.tests.utils import client_for
from events.tests.factories import EventFactory
from registrations.tests.bulk import bulk_registrations

pytestmark = pytest.mark.django_db


def export_peak(event) -> tuple[int, int]:
    """(rows, peak traced bytes) while consuming the streamed export."""
    client = client_for(event.organizer)
    # Warm up first: the first request pays one-time costs (imports, URL
    # resolver, serializers) that would dwarf what is being measured.
    for _ in client.get(f"/api/v1/events/{event.pk}/attendees.csv?limit=1").streaming_content:
        break
    tracemalloc.start()
    try:
        response = client.get(f"/api/v1/events/{event.pk}/attendees.csv")
        rows = sum(chunk.count(b"\n") for chunk in response.streaming_content)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return rows, peak


def test_peak_memory_is_flat_from_4k_to_24k_rows():
    # Both sizes span several 2,000-row chunks, so both peaks hold one chunk.
    small, large = EventFactory(capacity=50_000), EventFactory(capacity=50_000)
    bulk_registrations(small, 4_000, prefix="s")
    bulk_registrations(large, 24_000, prefix="l")
    small_rows, small_peak = export_peak(small)
    large_rows, large_peak = export_peak(large)
    assert (small_rows, large_rows) == (4_001, 24_001)  # with the header
    # 6x the rows, the same peak; a non-streamed export (all rows loaded)
    # measured 13 MB against 1.5 MB here and fails this.
    assert large_peak < 1.25 * small_peak, (small_peak, large_peak)
