from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from registrations.services import reminders_queue


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
        "Queue an e-mail reminder for every confirmed attendee of the published events that start within the "
        "next --hours hours; the task workers send them. Each attendee gets at most one reminder per event, "
        "however often this runs: safe to run from cron every few minutes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--hours", default="24", help="The window, in hours (default 24).")

    def handle(self, *args: Any, hours: str, **options: Any) -> None:
        window = positive_hours(hours)
        events, attendees = reminders_queue(now=timezone.now(), within=timedelta(hours=window))
        self.stdout.write(
            f"Queued {attendees} reminder(s) for {events} event(s) in the next {window} h; "
            "the workers send them (`task_queue` shows the queue)."
        )
