"""Retry-safe registration (docs/api.md, Conventions: Idempotency-Key), and
answers to committed writes that need no second trip to the database."""

from contextlib import ExitStack
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import UserFactory
from eventmaster.tests.utils import assert_error, client_for, db_error
from events.tests.factories import EventFactory
from registrations import services
from registrations.models import IdempotencyKey, Registration

pytestmark = pytest.mark.django_db


def register(client, event, key=None):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post(f"/api/v1/events/{event.pk}/registrations", **headers)


def test_a_retry_with_the_same_key_gets_the_original_answer(member_client, member, event):
    first = register(member_client, event, key="signup-1")
    again = register(member_client, event, key="signup-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert Registration.objects.filter(event=event, user=member).count() == 1


def test_without_a_key_a_retry_is_already_registered(member_client, event):
    assert register(member_client, event).status_code == 201
    assert_error(register(member_client, event), 409, "already_registered")


def test_the_answer_is_kept_after_the_registration_changed(member_client, member, event):
    first = register(member_client, event, key="k")
    member_client.post(f"/api/v1/registrations/{first.json()['id']}/cancel")
    again = register(member_client, event, key="k")
    assert (again.status_code, again.json()) == (201, first.json())


def test_the_same_key_with_another_event_is_422(member_client, event):
    other = EventFactory()
    assert register(member_client, event, key="k").status_code == 201
    assert_error(register(member_client, other, key="k"), 422, "idempotency_key_reused")
    assert not Registration.objects.filter(event=other).exists()


def test_keys_belong_to_their_user(member_client, event):
    other_client = client_for(UserFactory())
    mine = register(member_client, event, key="shared")
    theirs = register(other_client, event, key="shared")
    assert theirs.status_code == 201 and theirs.json()["id"] != mine.json()["id"]


def test_a_refused_registration_stores_no_answer_and_a_retry_runs_again(member_client, member):
    event = EventFactory(capacity=1, waitlist_enabled=False)
    holder = services.registration_create(event=event, user=UserFactory())
    assert_error(register(member_client, event, key="k"), 409, "event_full")
    assert not IdempotencyKey.objects.exists()
    services.registration_cancel(registration=holder, by=holder.user)
    assert register(member_client, event, key="k").status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "é"])
def test_a_malformed_key_is_400(member_client, event, key):
    assert_error(register(member_client, event, key=key), 400, "invalid", attr="Idempotency-Key")
    assert not Registration.objects.filter(event=event).exists()


def test_a_key_of_255_printable_characters_is_fine(member_client, event):
    assert register(member_client, event, key="~" * 255).status_code == 201


def test_a_waitlisted_answer_is_replayed_with_its_position(event):
    event.capacity = 1
    event.save()
    services.registration_create(event=event, user=UserFactory())
    client = client_for(UserFactory())
    first = register(client, event, key="w")
    assert (first.json()["status"], first.json()["waitlist_position"]) == ("waitlisted", 1)
    assert register(client, event, key="w").json() == first.json()


@pytest.mark.parametrize("key", [None, "k"])
def test_a_committed_registration_is_answered_without_another_query(member_client, event, monkeypatch, key):
    """The view re-read the row after commit; on a connection that died right
    then, a registration that committed was answered 500."""

    def refuse(execute, sql, params, many, context):
        raise db_error(None)

    name = "registration_create" if key is None else "registration_create_once"
    original = getattr(services, name)
    with ExitStack() as after_the_service:

        def then_the_database_goes(**kwargs):
            result = original(**kwargs)
            after_the_service.enter_context(connection.execute_wrapper(refuse))
            return result

        monkeypatch.setattr(services, name, then_the_database_goes)
        response = register(member_client, event, key=key)
    assert response.status_code == 201
    assert response.json()["status"] == "confirmed" and response.json()["ticket_code"]


def test_a_committed_cancellation_is_answered_without_another_query(member_client, registration, monkeypatch):
    def refuse(execute, sql, params, many, context):
        raise db_error(None)

    original = services.registration_cancel
    with ExitStack() as after_the_service:

        def then_the_database_goes(**kwargs):
            result = original(**kwargs)
            after_the_service.enter_context(connection.execute_wrapper(refuse))
            return result

        monkeypatch.setattr(services, "registration_cancel", then_the_database_goes)
        response = member_client.post(f"/api/v1/registrations/{registration.pk}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


class TestPurge:
    def test_keys_older_than_the_window_are_deleted(self, member, event):
        old = IdempotencyKey.objects.create(user=member, key="old", scope="s", status_code=201, body={})
        IdempotencyKey.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=49))
        IdempotencyKey.objects.create(user=member, key="new", scope="s", status_code=201, body={})
        out = StringIO()
        call_command("purge_idempotency_keys", stdout=out)
        assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
        assert "Deleted 1" in out.getvalue()

    @pytest.mark.parametrize("hours", ["23", "x"])
    def test_fewer_than_24_hours_is_refused(self, hours):
        with pytest.raises(CommandError):
            call_command("purge_idempotency_keys", "--hours", hours)
