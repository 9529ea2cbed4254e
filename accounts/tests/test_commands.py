"""grant_role / revoke_role: thin wrappers, one-line errors, non-zero exit."""

import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from accounts.models import User
from eventmaster.roles import user_roles
from eventmaster.tests.server import server_env

pytestmark = pytest.mark.django_db


def test_grant_and_revoke_organizer_toggle_admin_site_access(member, capsys):
    call_command("grant_role", member.email.upper(), "organizer")
    assert "granted organizer" in capsys.readouterr().out
    user = User.objects.get(pk=member.pk)
    assert "organizer" in user_roles(user) and user.is_staff
    call_command("grant_role", member.email, "organizer")
    assert "no change" in capsys.readouterr().out
    call_command("revoke_role", member.email, "organizer")
    user = User.objects.get(pk=member.pk)
    assert "organizer" not in user_roles(user) and not user.is_staff


def test_keeping_one_staff_role_keeps_admin_site_access(member):
    call_command("grant_role", member.email, "organizer")
    call_command("grant_role", member.email, "admin")
    call_command("revoke_role", member.email, "organizer")
    member.refresh_from_db()
    assert member.is_staff
    call_command("revoke_role", member.email, "admin")
    member.refresh_from_db()
    assert not member.is_staff


def test_checkin_role_does_not_open_the_admin_site(member):
    call_command("grant_role", member.email, "checkin")
    member.refresh_from_db()
    assert not member.is_staff


@pytest.mark.parametrize("command", ["grant_role", "revoke_role"])
def test_unknown_user_and_role_are_command_errors(member, command):
    with pytest.raises(CommandError, match="No user with e-mail address"):
        call_command(command, "ghost@example.org", "organizer")
    with pytest.raises(CommandError, match="Unknown role 'wizard'"):
        call_command(command, member.email, "wizard")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ghost@example.org", "organizer"], "No user with e-mail address"),
        (["{email}", "wizard"], "Unknown role"),
    ],
)
def test_cli_exit_code_and_one_line_message_without_traceback(member, args, message):
    args = [a.format(email=member.email) for a in args]
    result = subprocess.run(
        [sys.executable, "manage.py", "grant_role", *args],
        env=server_env(),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr
