"""Reads of accounts, with their roles in the same query."""

from django.db.models import QuerySet

from eventmaster.roles import annotate_roles

from .models import User


def user_list() -> QuerySet[User]:
    return annotate_roles(User.objects.all()).order_by("email", "pk")


def user_get_for_auth(*, pk) -> User | None:
    """The user behind a token, with roles: one query per authenticated request."""
    return annotate_roles(User.objects.filter(pk=pk)).first()
