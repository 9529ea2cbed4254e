from accounts.models import User
from accounts.services import user_revoke_role

from ._roles import RoleCommand


class Command(RoleCommand):
    help = "Take a role (member, organizer, checkin, admin) away from a user."
    verb = "revoked"

    def change(self, *, user: User, role: str) -> bool:
        return user_revoke_role(user=user, role=role)
