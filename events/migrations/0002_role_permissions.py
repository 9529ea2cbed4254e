"""Model permissions of the organizer and admin roles on events,
registrations and the scan log (the Django admin checks them; which rows an
organizer sees is scoped in events/admin.py)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ORGANIZER = (
    ("events", "add_event"),
    ("events", "change_event"),
    ("events", "delete_event"),
    ("events", "view_event"),
    ("registrations", "change_registration"),
    ("registrations", "view_registration"),
    ("checkin", "view_scan"),
)
ADMIN = ORGANIZER + (("registrations", "view_reminder"),)


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in (("organizer", ORGANIZER), ("admin", ADMIN)):
        group, _ = Group.objects.get_or_create(name=role)
        for app_label, codename in perms:
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=("organizer", "admin")):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label__in=("events", "registrations", "checkin"))
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_role_groups"),
        ("events", "0001_initial"),
        ("registrations", "0002_reminder"),
        ("checkin", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
