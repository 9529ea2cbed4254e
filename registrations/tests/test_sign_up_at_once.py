"""On PostgreSQL a plain confirmed sign-up is one statement in autocommit
(registrations.services._confirm_at_once): it must write and answer exactly
what the general path (the event locked, then the writes) does, and leave
everything else to that path."""

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from eventmaster.models import DomainEvent
from eventmaster.tests.utils import client_for, run_tasks
from events import webhooks
from events.models import Event
from events.tests.factories import EventFactory
from registrations import services
from registrations.models import Mail, Registration
from registrations.selectors import event_counts_drift

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL: writes in WITH"),
]


@pytest.fixture
def paths(monkeypatch):
    """Which path each sign-up took."""
    taken = []
    original = services._confirm_at_once

    def spy(**kwargs):
        registration = original(**kwargs)
        taken.append("at once" if registration is not None else "general")
        return registration

    monkeypatch.setattr(services, "_confirm_at_once", spy)
    return taken


def sign_up(event, user=None, capture=None):
    user = user or UserFactory()
    with capture(execute=True):
        response = client_for(user).post(f"/api/v1/events/{event.pk}/registrations")
    return user, response


def test_it_writes_and_answers_what_the_general_path_does(
    paths, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_DISPATCH_ON_COMMIT = True
    webhooks._last_scheduled = 0.0  # a dispatch queued by an earlier test is not this one's
    event = EventFactory(capacity=10)
    at_once_user, at_once = sign_up(event, capture=django_capture_on_commit_callbacks)
    assert paths == ["at once"]
    monkeypatch.setattr(services, "_confirm_at_once", lambda **kwargs: None)
    general_user, general = sign_up(event, capture=django_capture_on_commit_callbacks)

    assert at_once.status_code == general.status_code == 201
    skip = {"id", "user", "created_at", "ticket_code", "qr_code_url", "ticket"}
    a, g = at_once.json(), general.json()
    assert a.keys() == g.keys()
    assert {k: v for k, v in a.items() if k not in skip} == {k: v for k, v in g.items() if k not in skip}
    assert a["status"] == "confirmed" and a["event"]["id"] == str(event.pk)

    first = Registration.objects.get(user=at_once_user)
    second = Registration.objects.get(user=general_user)
    assert str(first.pk) == a["id"]
    different = {"id", "user", "created_at", "ticket_code"}
    fields = [f.attname for f in Registration._meta.concrete_fields if f.name not in different]
    assert {f: getattr(first, f) for f in fields} == {f: getattr(second, f) for f in fields}
    assert abs(first.created_at - second.created_at).total_seconds() < 60

    event.refresh_from_db()
    assert (event.confirmed_count, event.waitlisted_count) == (2, 0)

    first_mail, second_mail = Mail.objects.get(registration=first), Mail.objects.get(registration=second)
    for mail in (first_mail, second_mail):
        assert (mail.kind, mail.status, mail.attempts) == ("confirmed", "pending", 0)
        assert mail.sweep is not None and mail.next_attempt_at == mail.created_at
        assert mail.give_up_at > timezone.now()

    first_event = DomainEvent.objects.get(object_id=str(first.pk))
    second_event = DomainEvent.objects.get(object_id=str(second.pk))
    for row in (first_event, second_event):
        assert (row.type, row.object_type, row.event_id) == ("registration.created", "registration", event.pk)
    assert first_event.data == second_event.data

    # On commit: each mail's sweep, and the webhooks' dispatch.
    queued = list(DBTaskResult.objects.values_list("task_path", flat=True))
    assert queued.count("registrations.tasks.send_sweep") == 2
    assert "events.tasks.dispatch_webhooks" in queued
    run_tasks()
    assert set(Mail.objects.values_list("status", flat=True)) == {"sent"}


def test_the_public_page_shows_the_new_count_at_once(paths, django_capture_on_commit_callbacks):
    event = EventFactory(capacity=10)
    anonymous = APIClient()
    assert anonymous.get(f"/api/v1/events/{event.pk}").json()["available_slots"] == 10  # cached now
    sign_up(event, capture=django_capture_on_commit_callbacks)
    assert paths == ["at once"]
    assert anonymous.get(f"/api/v1/events/{event.pk}").json()["available_slots"] == 9


@pytest.mark.parametrize(
    "case, status, code",
    [
        ("full, no waitlist", 409, "event_full"),
        ("full, with a waitlist", 201, None),
        ("draft", 404, "not_found"),
        ("started", 409, "registration_closed"),
        ("cancelled", 409, "registration_closed"),
        ("unknown", 404, "not_found"),
    ],
)
def test_anything_but_a_free_seat_on_an_open_event_goes_the_general_way(
    case, status, code, paths, django_capture_on_commit_callbacks
):
    event = EventFactory(capacity=1)
    if case.startswith("full"):
        sign_up(event, capture=django_capture_on_commit_callbacks)
        Event.objects.filter(pk=event.pk).update(waitlist_enabled=case == "full, with a waitlist")
        paths.clear()
    elif case == "draft":
        Event.objects.filter(pk=event.pk).update(status=Event.Status.DRAFT)
    elif case == "started":
        Event.objects.filter(pk=event.pk).update(start_at=timezone.now())
    elif case == "cancelled":
        Event.objects.filter(pk=event.pk).update(status=Event.Status.CANCELLED)
    elif case == "unknown":
        Event.objects.filter(pk=event.pk).delete()
    before = (Registration.objects.count(), Mail.objects.count(), DomainEvent.objects.count())
    _, response = sign_up(event, capture=django_capture_on_commit_callbacks)
    assert response.status_code == status, response.content
    if code:
        assert response.json()["errors"][0]["code"] == code
        assert (Registration.objects.count(), Mail.objects.count(), DomainEvent.objects.count()) == before
    else:
        assert response.json()["status"] == "waitlisted"
    assert paths == ["general"]
    assert event_counts_drift() == []


def test_a_second_sign_up_is_409_and_changes_nothing(paths, django_capture_on_commit_callbacks):
    event = EventFactory(capacity=10)
    user, _ = sign_up(event, capture=django_capture_on_commit_callbacks)
    before = (Mail.objects.count(), DomainEvent.objects.count())
    _, again = sign_up(event, user=user, capture=django_capture_on_commit_callbacks)
    assert again.status_code == 409 and again.json()["errors"][0]["code"] == "already_registered"
    event.refresh_from_db()
    assert event.confirmed_count == 1  # the counter's UPDATE was undone with the statement
    assert (Mail.objects.count(), DomainEvent.objects.count()) == before
    assert paths == ["at once"]  # the second one's statement raised the unique violation


@pytest.mark.django_db(transaction=True)
class TestInAutocommit:
    """As in production: no outer transaction, so no savepoint; the
    statement commits by itself and the on-commit work runs right after it."""

    def test_a_sign_up_commits_and_queues_its_mail_and_dispatch(self, paths, settings):
        settings.WEBHOOK_DISPATCH_ON_COMMIT = True
        webhooks._last_scheduled = 0.0
        event = EventFactory(capacity=10)
        anonymous = APIClient()
        assert anonymous.get(f"/api/v1/events/{event.pk}").json()["available_slots"] == 10  # cached now
        user = UserFactory()
        response = client_for(user).post(f"/api/v1/events/{event.pk}/registrations")
        assert response.status_code == 201, response.content
        assert paths == ["at once"]
        assert Registration.objects.get(user=user).status == "confirmed"
        queued = list(DBTaskResult.objects.values_list("task_path", flat=True))
        assert "registrations.tasks.send_sweep" in queued and "events.tasks.dispatch_webhooks" in queued
        assert anonymous.get(f"/api/v1/events/{event.pk}").json()["available_slots"] == 9
        assert event_counts_drift() == []

    def test_a_second_sign_up_is_409_and_leaves_no_trace(self, paths):
        event = EventFactory(capacity=10)
        user = UserFactory()
        assert client_for(user).post(f"/api/v1/events/{event.pk}/registrations").status_code == 201
        before = (Mail.objects.count(), DomainEvent.objects.count())
        again = client_for(user).post(f"/api/v1/events/{event.pk}/registrations")
        assert again.status_code == 409 and again.json()["errors"][0]["code"] == "already_registered"
        assert Event.objects.get(pk=event.pk).confirmed_count == 1
        assert (Mail.objects.count(), DomainEvent.objects.count()) == before
        assert event_counts_drift() == []


def test_a_gated_insert_refuses_a_text_too_long_for_its_column():
    """db.insert_from_sql casts each parameter to its column's type, but a
    text to plain varchar: a cast to varchar(n) would cut it silently."""
    from django.db import DataError, transaction

    from eventmaster import db

    names = ("type", "occurred_at", "event_id", "object_type", "object_id", "data")
    sql = "WITH e AS (SELECT 1) " + db.insert_from_sql(DomainEvent, names, "e")
    params = [
        "registration.created",
        timezone.now(),
        None,
        "registration",
        "x" * 65,
        db.prep(DomainEvent._meta.get_field("data"), {}),
    ]
    with pytest.raises(DataError), transaction.atomic():
        db.execute(sql, params)
    params[4] = "x" * 64
    db.execute(sql, params)
    assert DomainEvent.objects.filter(object_id="x" * 64).exists()
