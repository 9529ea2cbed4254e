from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from registrations.mails import retry_failed
from registrations.models import Mail


class Command(BaseCommand):
    help = (
        "Send the failed attendee mails again (a mail fails when the mail server refused it, or kept failing for "
        "a day): each gets a fresh day of retries. --list shows them without sending."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--list", action="store_true", help="Show the failed mails; send nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        failed = Mail.objects.filter(status=Mail.Status.FAILED)
        if options["list"]:
            rows = failed.select_related("registration__user").order_by("created_at")[:1000]
            for mail in rows:
                self.stdout.write(
                    f"{mail.pk}  {mail.kind:<16} {mail.registration.user.email}  {mail.last_error}"
                )
            self.stdout.write(f"{failed.count()} failed mail(s).")
            return
        count = retry_failed()
        self.stdout.write(f"Queued {count} failed mail(s) to be sent again.")
