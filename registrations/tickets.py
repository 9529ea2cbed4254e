"""The ticket's QR code (segno), and the attendee CSV export."""

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import segno

CSV_HEADER = ("registration_id", "full_name", "email", "status", "registered_at", "checked_in_at")
# A cell starting with one of these is a formula to a spreadsheet (OWASP CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def ticket_qr(ticket_code: str, kind: str) -> bytes:
    """The QR code of ``ticket_code`` as ``svg`` or ``png`` bytes."""
    buffer = io.BytesIO()
    segno.make(ticket_code, error="m", micro=False).save(buffer, kind=kind, scale=8, border=4)
    return buffer.getvalue()


def _timestamp(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else ""


def _text(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_PREFIXES) else value


class _Echo:
    """A file-like object whose write() hands back the line, for streaming."""

    def write(self, value: str) -> str:
        return value


def attendee_csv_lines(rows: Iterable[tuple]) -> Iterator[str]:
    """CSV lines, one at a time: the header, then a line per row of
    ``registration_export_rows``."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for registration_id, full_name, email, status, created_at, checked_in_at in rows:
        yield writer.writerow(
            (
                str(registration_id),
                _text(full_name),
                _text(email),
                status,
                _timestamp(created_at),
                _timestamp(checked_in_at),
            )
        )
