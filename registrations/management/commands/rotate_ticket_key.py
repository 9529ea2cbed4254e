import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from events.models import Event
from registrations import signing


class Command(BaseCommand):
    help = (
        "Retire an event's ticket signing key and make a new one (registrations.signing): tickets signed "
        "so far stay valid; new QR codes are signed with the new key. Door devices get it with their next "
        "door bundle."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("event_id", help="The event's id.")

    def handle(self, *args: Any, event_id: str, **options: Any) -> None:
        try:
            pk = uuid.UUID(event_id)
        except ValueError:
            raise CommandError(f"{event_id!r} is not an event id.") from None
        if not Event.objects.filter(pk=pk).exists():
            raise CommandError(f"No event has the id {event_id}.")
        key = signing.ticket_key_rotate(pk)
        self.stdout.write(f"New ticket key {key.kid} for event {pk}; the previous ones are retired.")
