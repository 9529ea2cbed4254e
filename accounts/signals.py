"""Keep ``is_staff`` derived from the roles, whichever way groups change
(the API, the management commands, or the Django admin's user form)."""

from typing import Any

from django.apps import AppConfig, apps
from django.db.models.signals import m2m_changed, post_migrate
from django.dispatch import receiver

from eventmaster.roles import sync_role_groups

from .models import User
from .services import user_sync_staff


@receiver(m2m_changed, sender=User.groups.through)
def sync_staff_on_group_change(
    sender: type[Any], instance: Any, action: str, reverse: bool, pk_set: set[Any] | None, **kwargs: Any
) -> None:
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        user_sync_staff(user=instance)
        return
    # group.user_set.add(...) and friends: pk_set holds the users (None on clear,
    # when the affected users are no longer known: resync all staff).
    users = User.objects.filter(pk__in=pk_set) if pk_set else User.objects.filter(is_staff=True)
    for user in users:
        user_sync_staff(user=user)


@receiver(post_migrate)
def sync_roles_after_migrate(sender: AppConfig, app_config: AppConfig, **kwargs: Any) -> None:
    # post_migrate comes once per app, in INSTALLED_APPS order: sync once,
    # after the last app, when every app's permissions exist.
    if app_config.label == list(apps.get_app_configs())[-1].label:
        sync_role_groups()
