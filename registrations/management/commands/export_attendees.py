import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from events.commands import event_from_arg
from registrations.selectors import registration_export_rows
from registrations.tickets import attendee_csv_lines


class Command(BaseCommand):
    help = "Write an event's attendees as CSV (the columns of GET /events/{id}/attendees.csv) to a file or stdout."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("event_id", help="The event's id.")
        parser.add_argument("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout.")

    def handle(self, *args: Any, event_id: str, output: str | None, **options: Any) -> None:
        event = event_from_arg(event_id)
        lines = attendee_csv_lines(registration_export_rows(event=event))
        if output is None:
            try:
                for line in lines:
                    self.stdout.write(line, ending="")
                self.stdout.flush()
            except BrokenPipeError:  # e.g. piped into head: the reader has had enough
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silences the flush at exit
            return
        total = event.registrations.count()
        try:
            with open(output, "w", encoding="utf-8", newline="") as file:
                for line in tqdm(
                    lines, total=total + 1, unit="row", disable=total < 1000 or not sys.stderr.isatty()
                ):
                    file.write(line)
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror}.") from None
        self.stderr.write(f"Wrote {total} registration(s) of {event.title!r} to {output}.")
