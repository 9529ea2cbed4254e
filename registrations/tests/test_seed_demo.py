import pytest
from django.core.management import call_command
from django.db.models import F

from accounts.models import User
from events.models import Event
from events.selectors import event_list_public
from registrations.management.commands.seed_demo import DEMO_PASSWORD
from registrations.models import Registration

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int, int]:
    return User.objects.count(), Event.objects.count(), Registration.objects.count()


def test_seed_demo_is_idempotent_and_prints_the_logins(capsys, api_client):
    call_command("seed_demo")
    out = capsys.readouterr().out
    first = counts()
    assert first[0] == 24 and first[1] == 12 and first[2] > 40
    assert "admin@demo.example.org" in out and DEMO_PASSWORD in out
    call_command("seed_demo")
    assert counts() == first

    statuses = set(Event.objects.values_list("status", flat=True))
    assert statuses == {"draft", "published", "cancelled"}
    full = event_list_public().filter(confirmed_count__gte=F("capacity"), waitlisted_count__gt=0)
    assert full.exists(), "one event is full with a waitlist"
    login = api_client.post(
        "/api/v1/auth/login", {"email": "door@demo.example.org", "password": DEMO_PASSWORD}
    )
    assert login.status_code == 200 and login.json()["user"]["roles"] == ["checkin", "member"]
    assert api_client.get("/api/v1/events").json()["total"] >= 8
