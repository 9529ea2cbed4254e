from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from registrations.services import idempotency_keys_purge

# docs/api.md: keys are kept at least 24 hours.
MINIMUM_HOURS = 24


class Command(BaseCommand):
    help = (
        "Delete the stored answers of Idempotency-Key requests older than --hours hours (default 48, at "
        "least 24: clients may retry for a day). Safe to run from cron, e.g. hourly."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--hours", default="48", help="Keep keys this many hours (default 48, minimum 24)."
        )

    def handle(self, *args: Any, hours: str, **options: Any) -> None:
        try:
            kept = int(hours)
        except ValueError:
            raise CommandError(f"--hours takes a whole number of hours, not {hours!r}.") from None
        if kept < MINIMUM_HOURS:
            raise CommandError(f"--hours must be at least {MINIMUM_HOURS}: keys are kept at least a day.")
        deleted = idempotency_keys_purge(older_than=timezone.now() - timedelta(hours=kept))
        self.stdout.write(f"Deleted {deleted} idempotency keys older than {kept} hours.")
