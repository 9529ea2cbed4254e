"""The four role groups of docs/api.md and their model permissions.

Later apps add the permissions on their own models to these groups in their
own migrations. Permissions are normally created after ``migrate`` by a
signal, so they are created here first.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = ("member", "organizer", "checkin", "admin")

# What the admin role may do in the Django admin on accounts.
ADMIN_PERMISSIONS = (
    ("accounts", "view_user"),
    ("accounts", "add_user"),
    ("accounts", "change_user"),
    ("auth", "view_group"),
)


def create_role_groups(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    admin = Group.objects.get(name="admin")
    for app_label, codename in ADMIN_PERMISSIONS:
        admin.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def remove_role_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, remove_role_groups)]
