"""Shared by grant_role and revoke_role: thin wrappers around the services."""

from typing import Any

from django.core.management.base import CommandError, CommandParser

from accounts.errors import UnknownRoleError
from accounts.models import User, normalize_email
from eventmaster.audit import AuditedCommand
from eventmaster.roles import Role


class RoleCommand(AuditedCommand):
    verb = ""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="The account's e-mail address.")
        parser.add_argument("role", help=f"One of: {', '.join(Role.values)}.")

    def change(self, *, user: User, role: str) -> bool:
        raise NotImplementedError

    def handle(self, *args: Any, email: str, role: str, **options: Any) -> None:
        user = User.objects.filter(email=normalize_email(email)).first()
        if user is None:
            raise CommandError(f"No user with e-mail address {email!r}.")
        try:
            changed = self.change(user=user, role=role)
        except UnknownRoleError as exc:
            raise CommandError(str(exc.detail)) from exc
        state = "done" if changed else "no change"
        self.stdout.write(f"{self.verb} {role}: {user.email} ({state})")
