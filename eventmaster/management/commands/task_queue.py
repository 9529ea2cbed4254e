import json
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from eventmaster.tasks import queue_state


class Command(BaseCommand):
    help = (
        "Show the background queue: tasks waiting (due now), scheduled (a retry's backoff), running, failed, "
        "the age of the oldest waiting task, and the live workers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="One JSON object (for monitoring).")

    def handle(self, *args: Any, **options: Any) -> None:
        state = queue_state()
        age = state.oldest_waiting_age.total_seconds() if state.oldest_waiting_age is not None else None
        if options["json"]:
            fields = {key: value for key, value in asdict(state).items() if key != "oldest_waiting_age"}
            self.stdout.write(json.dumps({"oldest_waiting_seconds": age, **fields}))
            return
        self.stdout.write(
            f"waiting {state.waiting}, scheduled {state.scheduled}, running {state.running}, "
            f"failed {state.failed}, oldest waiting "
            + (f"{age:.0f} s" if age is not None else "-")
            + f", workers {state.workers}"
        )
