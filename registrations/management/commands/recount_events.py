from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from events.models import Event
from registrations.selectors import event_counts_drift
from registrations.services import event_counts_fix

BATCH = 1000  # events recounted per query


class Command(BaseCommand):
    help = (
        "Recount every event's confirmed and waitlisted registrations in the database and compare them with "
        "the event's counter columns (confirmed_count, waitlisted_count). Prints each drifted column as "
        "'event id, column, stored, actual' and exits 1 when any drifted. With --fix, corrects them (each "
        "event under its row lock, as registrations do) and exits 0. Read-only without --fix: safe to run "
        "from cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--fix", action="store_true", help="Set drifted counters to the recounted values."
        )

    def handle(self, *args: Any, fix: bool, **options: Any) -> None:
        pks = list(Event.objects.order_by("pk").values_list("pk", flat=True))
        drift = []
        with tqdm(
            total=len(pks), unit="event", disable=len(pks) < 5 * BATCH or options["verbosity"] == 0
        ) as progress:
            for start in range(0, len(pks), BATCH):
                batch = pks[start : start + BATCH]
                drift += event_counts_drift(events=Event.objects.filter(pk__in=batch))
                progress.update(len(batch))
        if not drift:
            self.stdout.write(f"Checked {len(pks)} event(s): every counter matches the registrations.")
            return
        for row in drift:
            self.stdout.write(f"{row.event_id}  {row.column}  stored {row.stored}  actual {row.actual}")
        events = list(dict.fromkeys(row.event_id for row in drift))
        if not fix:
            raise CommandError(
                f"{len(drift)} counter(s) of {len(events)} event(s) drifted; run with --fix to correct them."
            )
        fixed = sum(
            bool(event_counts_fix(event_id=pk))
            for pk in tqdm(events, unit="event", disable=len(events) < 50 or options["verbosity"] == 0)
        )
        self.stdout.write(f"Fixed {fixed} event(s) (recounted under each event's lock).")
