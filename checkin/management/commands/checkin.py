from typing import Any

from django.core.management.base import CommandError, CommandParser

from accounts.models import User, normalize_email
from checkin.models import Scan
from checkin.services import checkin_scan
from eventmaster.audit import AuditedCommand
from events.commands import event_from_arg
from events.permissions import can_run_event_door

SUCCESS = {Scan.Result.OK, Scan.Result.ALREADY_CHECKED_IN}


class Command(AuditedCommand):
    help = (
        "Check a ticket in at an event from the terminal and print the result in one line. "
        "Exit status 0 for ok and already_checked_in, 1 otherwise."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("event_id", help="The event's id.")
        parser.add_argument(
            "ticket_code", help="The code in the ticket's QR code (after -- if it starts with a dash)."
        )
        parser.add_argument(
            "--by",
            metavar="EMAIL",
            help="Record the check-in as done by this user (the event's organizer, its door staff or an admin).",
        )

    def handle(self, *args: Any, event_id: str, ticket_code: str, by: str | None, **options: Any) -> None:
        event = event_from_arg(event_id)
        user = None
        if by:
            user = User.objects.filter(email=normalize_email(by)).first()
            if user is None:
                raise CommandError(f"No user with e-mail address {by!r}.")
            if not can_run_event_door(user, event):
                # Else anyone could be recorded as having checked a ticket in.
                raise CommandError(
                    f"{user.email} may not check in at this event (not its organizer, door staff or an admin)."
                )
        outcome = checkin_scan(ticket_code=ticket_code.strip(), event=event, by=user)
        registration = outcome.registration
        parts = [outcome.result]
        if registration is not None and outcome.result != Scan.Result.WRONG_EVENT:
            parts.append(f"{registration.user.full_name} <{registration.user.email}>")
        if outcome.result == Scan.Result.WRONG_EVENT and registration is not None:  # a wrong_event has one
            parts.append(f"ticket of {registration.event.title!r}")
        if outcome.checked_in_at is not None:
            who = f" by {outcome.checked_in_by.full_name}" if outcome.checked_in_by else ""
            parts.append(f"checked in {outcome.checked_in_at:%Y-%m-%d %H:%M:%S} UTC{who}")
        self.stdout.write(" | ".join(parts))
        if outcome.result not in SUCCESS:
            # A refused ticket is an answer, not an error of the command.
            raise SystemExit(1)
