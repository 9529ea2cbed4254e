"""The role groups of the data migration, and is_staff derived from them."""

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.services import user_create
from eventmaster.roles import Role, user_roles

pytestmark = pytest.mark.django_db


def test_the_four_role_groups_exist_with_admin_permissions():
    assert set(Group.objects.values_list("name", flat=True)) >= {"member", "organizer", "checkin", "admin"}
    admin_perms = set(Group.objects.get(name="admin").permissions.values_list("codename", flat=True))
    assert {"view_user", "change_user", "add_user"} <= admin_perms


def test_every_sign_up_is_a_member():
    user = user_create(email="New@Example.org", password="correct-horse-battery", full_name="N")
    assert user.email == "new@example.org"
    assert user_roles(user) == {"member"}
    assert not user.is_staff


def test_staff_flag_follows_groups_changed_from_either_side(member):
    organizers = Group.objects.get(name=Role.ORGANIZER)
    organizers.user_set.add(member)  # as the admin's group page would
    member.refresh_from_db()
    assert member.is_staff
    organizers.user_set.remove(member)
    member.refresh_from_db()
    assert not member.is_staff
    member.groups.add(Group.objects.get(name=Role.ADMIN))
    member.refresh_from_db()
    assert member.is_staff
    member.groups.clear()
    member.refresh_from_db()
    assert not member.is_staff


def test_email_is_unique_whatever_the_case():
    User.objects.create_user("a@example.org", "x", full_name="A")
    assert User.objects.get_by_natural_key("A@EXAMPLE.ORG").email == "a@example.org"
    with transaction.atomic(), pytest.raises(IntegrityError):
        User.objects.create_user("A@Example.org", "x", full_name="B")
    # Even a write that skips save() (and so normalisation) is refused.
    with transaction.atomic(), pytest.raises(IntegrityError):
        User.objects.bulk_create([User(email="A@EXAMPLE.org", full_name="C")])


def test_organizer_with_staff_flag_can_log_into_the_admin(client, organizer):
    client.force_login(organizer)
    assert client.get("/admin/").status_code == 200


def test_role_permissions_are_restored_after_migrate():
    from django.core.management import call_command

    organizers = Group.objects.get(name=Role.ORGANIZER)
    organizers.permissions.clear()
    Group.objects.filter(name=Role.CHECKIN).delete()
    call_command("migrate", verbosity=0)  # post_migrate syncs the role groups
    codenames = set(Group.objects.get(name=Role.ORGANIZER).permissions.values_list("codename", flat=True))
    assert {"add_event", "change_event", "view_registration", "view_scan"} <= codenames
    assert "change_user" not in codenames
    assert Group.objects.filter(name=Role.CHECKIN).exists()
