from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from registrations.selectors import reminder_candidates
from registrations.services import reminder_send


def positive_hours(value: str) -> int:
    """Checked here rather than by argparse, whose errors print the whole
    usage: bad input gets one line."""
    try:
        hours = int(value)
    except ValueError:
        raise CommandError(f"--hours takes a whole number of hours, not {value!r}.") from None
    if not 1 <= hours <= 24 * 365:
        raise CommandError("--hours must be between 1 and 8760.")
    return hours


class Command(BaseCommand):
    help = (
        "E-mail a reminder to every confirmed attendee of the published events that start within the next "
        "--hours hours. Each attendee gets at most one reminder per event, however often this runs: safe to "
        "run from cron every few minutes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--hours", default="24", help="The window, in hours (default 24).")

    def handle(self, *args: Any, hours: str, **options: Any) -> None:
        window = positive_hours(hours)
        candidates = reminder_candidates(now=timezone.now(), within=timedelta(hours=window))
        total = candidates.count()
        sent = 0
        progress = tqdm(
            candidates.iterator(chunk_size=500),
            total=total,
            unit="attendee",
            disable=total < 50 or options["verbosity"] == 0,
        )
        for registration in progress:
            sent += reminder_send(registration=registration)
        self.stdout.write(
            f"Sent {sent} reminder(s) for events in the next {window} h ({total - sent} already sent)."
        )
