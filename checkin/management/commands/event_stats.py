from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from checkin.selectors import checkin_stats
from events.commands import event_from_arg


class Command(BaseCommand):
    help = (
        "Print an event's door statistics (registrations, check-ins, arrivals per minute) as a small table."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("event_id", help="The event's id.")

    def handle(self, *args: Any, event_id: str, **options: Any) -> None:
        event = event_from_arg(event_id)
        stats = checkin_stats(event=event)
        self.stdout.write(f"{event.title} ({event.start_at:%Y-%m-%d %H:%M} UTC, capacity {event.capacity})")
        for key in ("confirmed", "checked_in", "not_checked_in", "waitlisted", "cancelled"):
            self.stdout.write(f"  {key.replace('_', ' '):<16}{stats[key]:>8}")
        if stats["arrivals"]:
            self.stdout.write("  arrivals per minute (UTC):")
            for row in stats["arrivals"]:
                self.stdout.write(
                    f"    {row['minute']:%H:%M}  {row['count']:>5}  {'#' * min(row['count'], 50)}"
                )
