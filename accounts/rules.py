"""Who may do what with accounts (see eventmaster/rules.py)."""

from eventmaster.roles import is_admin
from eventmaster.rules import caller_rule

MANAGE_USERS = caller_rule("accounts.manage_users", "admins", lambda user, _: is_admin(user))
