from accounts.models import User
from accounts.services import user_grant_role

from ._roles import RoleCommand


class Command(RoleCommand):
    help = "Give a user a role (member, organizer, checkin, admin)."
    verb = "granted"

    def change(self, *, user: User, role: str) -> bool:
        return user_grant_role(user=user, role=role)
