"""The four roles of docs/api.md, stored as Django groups.

Roles are read from the database on each request (the JWT carries no role),
so a grant or revoke takes effect on the caller's next request. They are
cached on the user object for the rest of that request only.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from django.db import models
from django.db.models import Model, QuerySet

if TYPE_CHECKING:
    from django.contrib.auth.models import Group


class Role(models.TextChoices):
    MEMBER = "member"
    ORGANIZER = "organizer"
    CHECKIN = "checkin"
    ADMIN = "admin"


# Role.values builds a new list on every access: membership tests use this.
ROLE_NAMES = frozenset(Role.values)

# Roles that use the Django admin, and so carry ``is_staff``.
ADMIN_SITE_ROLES = frozenset({Role.ORGANIZER, Role.ADMIN})

_CACHE_ATTR = "_eventmaster_roles"


class RoleHolder(Protocol):
    """What the role helpers read of a user: the project's user model
    (accounts, a layer above) or Django's AnonymousUser."""

    @property
    def is_authenticated(self) -> bool: ...
    @property
    def is_superuser(self) -> bool: ...
    @property
    def groups(self) -> "_Groups": ...


class _Groups(Protocol):
    def filter(self, *args: Any, **kwargs: Any) -> "QuerySet[Group]": ...


_M = TypeVar("_M", bound=Model)


def user_roles(user: RoleHolder | None) -> frozenset[str]:
    """The caller's role names; a superuser always counts as ``admin``."""
    if user is None or not user.is_authenticated:
        return frozenset()
    roles = getattr(user, _CACHE_ATTR, None)
    if roles is None:
        roles = roles_from_annotations(user)
    if roles is None:
        names = set(user.groups.filter(name__in=ROLE_NAMES).values_list("name", flat=True))
        roles = set_user_roles_cache(user, names)
    return roles


def set_user_roles_cache(user: RoleHolder, names: Iterable[object]) -> frozenset[str]:
    roles = frozenset(str(name) for name in names) | (
        {Role.ADMIN.value} if user.is_superuser else frozenset()
    )
    setattr(user, _CACHE_ATTR, roles)
    return roles


def forget_user_roles(user: RoleHolder) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def has_role(user: RoleHolder | None, *roles: str) -> bool:
    return not user_roles(user).isdisjoint(roles)


def is_admin(user: RoleHolder | None) -> bool:
    return has_role(user, Role.ADMIN)


def _flag(role: str) -> str:
    return f"has_role_{role}"


def annotate_roles(queryset: QuerySet[_M]) -> QuerySet[_M]:
    """Annotate users with one boolean per role, so listing N users (or
    authenticating one) reads their roles in the same single query."""
    from django.contrib.auth.models import Group
    from django.db.models import Exists, OuterRef

    annotated: QuerySet[_M] = queryset.annotate(
        **{_flag(role): Exists(Group.objects.filter(name=role, user=OuterRef("pk"))) for role in Role.values}
    )
    return annotated


def roles_from_annotations(user: RoleHolder) -> frozenset[str] | None:
    if not hasattr(user, _flag(Role.MEMBER)):
        return None
    return set_user_roles_cache(user, [r for r in Role.values if getattr(user, _flag(r))])


def role_group(role: str) -> "Group":
    """The group of a role. The data migration creates all four; created here
    if missing (a flushed test database, a group deleted in the admin)."""
    from django.contrib.auth.models import Group

    return Group.objects.get_or_create(name=Role(role).value)[0]


# The model permissions each role's group holds (the Django admin checks
# them; which rows an organizer sees is scoped in eventmaster/admin.py).
# Applied after every migrate, the first one included (accounts/signals.py);
# this also repairs a group edited by hand and a test database flushed
# between tests.
_EVENT_MANAGEMENT = (
    "events.add_event",
    "events.change_event",
    "events.delete_event",
    "events.view_event",
    "registrations.change_registration",
    "registrations.view_registration",
    "registrations.view_mail",
    "checkin.view_scan",
    "eventmaster.view_auditentry",  # their own events' entries (events.rules.VIEW_AUDIT)
    "events.add_webhookendpoint",
    "events.change_webhookendpoint",
    "events.delete_webhookendpoint",
    "events.view_webhookendpoint",
    "events.view_webhookdelivery",
    "events.change_webhookdelivery",  # the "send again" action
)
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.ORGANIZER: _EVENT_MANAGEMENT,
    Role.ADMIN: (
        *_EVENT_MANAGEMENT,
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "auth.view_group",
        "registrations.change_mail",  # the admin's "send again" action
        "django_tasks_database.view_dbtaskresult",  # the background queue
    ),
}


def sync_role_groups() -> None:
    """Create the four role groups and give them ROLE_PERMISSIONS (adds only;
    permissions given by hand are kept)."""
    from django.contrib.auth.models import Permission

    for role in Role.values:
        wanted = ROLE_PERMISSIONS.get(role, ())
        if not wanted:
            role_group(role)
            continue
        permissions = [
            p
            for p in Permission.objects.select_related("content_type")
            if f"{p.content_type.app_label}.{p.codename}" in wanted
        ]
        role_group(role).permissions.add(*permissions)
