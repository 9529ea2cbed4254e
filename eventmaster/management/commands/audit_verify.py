"""Check the audit trail's hash chain (eventmaster.audit.verify)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from eventmaster.audit import verify


class Command(BaseCommand):
    help = (
        "Walk the audit trail's hash chain and name the first entry that was altered, inserted or "
        "removed; print the head hash (keep it elsewhere and pass it back with --expect-head to "
        "detect a rewritten tail)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--expect-head",
            metavar="HASH",
            help="A head hash printed by an earlier run: it must still be in the chain.",
        )

    def handle(self, *args: Any, expect_head: str | None = None, **options: Any) -> None:
        verdict = verify(expect_head=expect_head)
        if not verdict.ok:
            raise CommandError(
                f"audit chain BROKEN at entry #{verdict.broken_at}: {verdict.problem} "
                f"({verdict.entries} entries verified before it)"
            )
        self.stdout.write(
            f"audit chain OK: {verdict.entries} entries; head #{verdict.head_seq} {verdict.head_hash}"
        )
