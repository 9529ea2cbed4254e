"""A write's answer never turns a committed change into an error: the
views read what they answer with before the commit, in the write's
transaction, so a connection that dies after the service's write either
rolls the write back (503, safe to retry) or is never touched again."""

import pytest

from accounts import services as account_services
from accounts.models import User
from eventmaster.tests.utils import assert_error, db_error, reads_fail_after
from events import services as event_services
from events.models import Event

pytestmark = pytest.mark.django_db

NEW_EVENT = {
    "title": "Meetup",
    "start_at": "2030-05-01T18:00:00Z",
    "end_at": "2030-05-01T20:00:00Z",
    "capacity": 10,
}


def test_event_create_rolls_back_when_its_answer_cannot_be_read(organizer_client):
    with reads_fail_after(event_services, "event_create"):
        response = organizer_client.post("/api/v1/events", NEW_EVENT, format="json")
    assert_error(response, 503, "service_unavailable")
    assert not Event.objects.filter(title="Meetup").exists()


@pytest.mark.parametrize(
    ("service", "method", "suffix", "body"),
    [
        ("event_update", "patch", "", {"title": "Renamed"}),
        ("event_cancel", "post", "/cancel", None),
    ],
)
def test_event_writes_roll_back_when_their_answer_cannot_be_read(
    organizer_client, event, service, method, suffix, body
):
    before = Event.objects.values("title", "status").get(pk=event.pk)
    with reads_fail_after(event_services, service):
        response = getattr(organizer_client, method)(
            f"/api/v1/events/{event.pk}{suffix}", body, format="json"
        )
    assert_error(response, 503, "service_unavailable")
    assert Event.objects.values("title", "status").get(pk=event.pk) == before


def test_publish_rolls_back_when_its_answer_cannot_be_read(organizer_client, organizer):
    from events.tests.factories import EventFactory

    draft = EventFactory(organizer=organizer, status=Event.Status.DRAFT)
    with reads_fail_after(event_services, "event_publish"):
        response = organizer_client.post(f"/api/v1/events/{draft.pk}/publish")
    assert_error(response, 503, "service_unavailable")
    assert Event.objects.get(pk=draft.pk).status == Event.Status.DRAFT


def test_user_update_rolls_back_when_its_answer_cannot_be_read(admin_client, member):
    with reads_fail_after(account_services, "user_update"):
        response = admin_client.patch(f"/api/v1/users/{member.pk}", {"full_name": "Renamed"}, format="json")
    assert_error(response, 503, "service_unavailable")
    assert User.objects.get(pk=member.pk).full_name != "Renamed"


def test_sign_up_and_its_tokens_commit_together(api_client, monkeypatch):
    def tokens_fail(**kwargs):
        raise db_error(None)

    monkeypatch.setattr(account_services, "tokens_for", tokens_fail)
    response = api_client.post(
        "/api/v1/auth/register",
        {"email": "new@example.org", "password": "a-long-Passphrase-9", "full_name": "New"},
        format="json",
    )
    assert_error(response, 503, "service_unavailable")
    # Not committed: the retry the 503 invites signs up, not 409 email_taken.
    assert not User.objects.filter(email="new@example.org").exists()
