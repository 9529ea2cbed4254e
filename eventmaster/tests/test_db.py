"""eventmaster.db: hand-written SQL that must read and write exactly what the
ORM does, on SQLite and on PostgreSQL."""

import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from accounts.selectors import user_get_for_auth
from checkin.models import Scan
from eventmaster import db
from registrations.models import Registration
from registrations.tests.factories import RegistrationFactory, counts_refreshed

pytestmark = pytest.mark.django_db

REGISTRATION = db.Columns(Registration, "r")


def read_registration(pk) -> Registration:
    sql = f"SELECT {REGISTRATION.sql()} FROM {db.quote(Registration._meta.db_table)} r WHERE r.{db.quote('id')} = %s"  # noqa: S608
    (row,) = db.fetch(sql, [db.prep(Registration._meta.pk, pk)])
    return REGISTRATION.instance(row)


def field_values(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_a_row_becomes_the_instance_the_orm_reads(organizer):
    registration = RegistrationFactory(
        status=Registration.Status.CANCELLED,
        cancelled_at=timezone.now(),
        cancel_reason=Registration.CancelReason.ORGANIZER_CANCELLED,
        checked_in_at=timezone.now() - timedelta(hours=1),
        checked_in_by=organizer,
    )
    by_hand, by_orm = read_registration(registration.pk), Registration.objects.get(pk=registration.pk)
    assert field_values(by_hand) == field_values(by_orm)
    # Types too: SQLite hands back text for UUIDs and datetimes.
    assert isinstance(by_hand.pk, uuid.UUID) and isinstance(by_hand.event_id, uuid.UUID)
    assert timezone.is_aware(by_hand.checked_in_at)
    assert by_hand._state.adding is False and by_hand._state.db == "default"


def test_nulls_and_booleans_convert_as_the_orm_does():
    user = User.objects.create(email="a@example.org", full_name="A", is_active=False)
    columns = db.Columns(User, "u")
    (row,) = db.fetch(f"SELECT {columns.sql()} FROM {db.quote('accounts_user')} u", [])  # noqa: S608
    by_hand = columns.instance(row)
    assert by_hand.is_active is False and by_hand.last_login is None
    assert field_values(by_hand) == field_values(User.objects.get(pk=user.pk))


def test_a_subset_of_columns_is_read_in_the_models_order_whatever_order_it_is_named_in():
    user = User.objects.create(email="b@example.org", full_name="Bea")
    columns = db.Columns(User, "u", ["full_name", "email", "id"])
    (row,) = db.fetch(f"SELECT {columns.sql()} FROM {db.quote('accounts_user')} u", [])  # noqa: S608
    by_hand = columns.instance(row)
    assert (by_hand.pk, by_hand.email, by_hand.full_name) == (user.pk, "b@example.org", "Bea")
    assert by_hand.get_deferred_fields() >= {"password", "is_active"}


def test_insert_and_update_write_what_the_orm_reads(event, organizer):
    registration = RegistrationFactory(event=event)
    now, nonce = timezone.now(), uuid.uuid4()
    assert db.update(Registration, registration.pk, checked_in_at=now, checked_in_by_id=organizer.pk) == 1
    registration.refresh_from_db()
    assert (registration.checked_in_at, registration.checked_in_by_id) == (now, organizer.pk)

    db.insert(
        Scan, event_id=event.pk, registration_id=registration.pk, ticket_code="x", action="checkin",
        result="ok", by_id=organizer.pk, created_at=now, nonce=nonce, scanned_at=now - timedelta(seconds=3),
    )  # fmt: skip
    scan = Scan.objects.get()
    assert (scan.registration_id, scan.by_id, scan.nonce, scan.created_at) == (
        registration.pk,
        organizer.pk,
        nonce,
        now,
    )
    assert scan.scanned_at == now - timedelta(seconds=3)

    assert db.update(Registration, uuid.uuid4(), checked_in_at=None) == 0


def test_a_constraint_violation_is_djangos_integrity_error(event, organizer):
    row = {"event_id": event.pk, "ticket_code": "x", "action": "checkin", "result": "invalid",
           "by_id": organizer.pk, "created_at": timezone.now(), "nonce": uuid.uuid4()}  # fmt: skip
    db.insert(Scan, **row)
    with pytest.raises(IntegrityError), transaction.atomic():
        db.insert(Scan, **row)
    assert Scan.objects.count() == 1


def scan_row(event, by, **values) -> dict:
    return {"event_id": event.pk, "ticket_code": "x", "action": "checkin", "result": "invalid",
            "by_id": by.pk, "created_at": timezone.now(), "nonce": uuid.uuid4(), **values}  # fmt: skip


def test_writes_together_are_one_statement_on_postgresql_and_each_their_own_on_sqlite(event, organizer):
    registration = RegistrationFactory(event=event)
    now = timezone.now()
    with CaptureQueriesContext(connection) as captured, transaction.atomic(), db.together():
        assert db.update(Registration, registration.pk, checked_in_at=now) in (1, -1)
        db.insert(Scan, **scan_row(event, organizer, registration_id=registration.pk))
        db.insert(Scan, **scan_row(event, organizer))
        with db.together():  # nested: part of the outer block
            db.insert(Scan, **scan_row(event, organizer))
        if connection.vendor == "postgresql":
            assert not [q for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]  # none yet
    sql = [q["sql"] for q in captured.captured_queries]
    if connection.vendor == "postgresql":
        (statement,) = [s for s in sql if s.startswith(("WITH", "INSERT", "UPDATE"))]
        assert statement.startswith('WITH w1 AS (UPDATE "registrations_registration"')
        assert statement.count('INSERT INTO "checkin_scan"') == 3
    else:
        assert len([s for s in sql if s.startswith(("INSERT", "UPDATE"))]) == 4
    registration.refresh_from_db()
    assert registration.checked_in_at == now and Scan.objects.count() == 3
    assert Scan.objects.filter(registration=registration).count() == 1


def test_writes_together_send_nothing_when_the_block_raises_and_a_violation_raises_at_its_end(
    event, organizer
):
    row = scan_row(event, organizer)
    with pytest.raises(RuntimeError), transaction.atomic(), db.together():
        db.insert(Scan, **scan_row(event, organizer))
        raise RuntimeError("the service changed its mind")
    assert not Scan.objects.exists()
    with pytest.raises(IntegrityError), transaction.atomic(), db.together():
        db.insert(Scan, **row)
        db.insert(Scan, **row)  # (by, nonce) is unique
    assert not Scan.objects.exists()  # both or neither


def test_insert_new_writes_every_column_as_save_would_and_marks_it_saved(event, member):
    registration = Registration(event=event, user=member, status="waitlisted")
    assert registration._state.adding
    assert db.insert_new(registration) == 1
    assert not registration._state.adding and registration._state.db == "default"
    stored = Registration.objects.get(pk=registration.pk)
    assert field_values(stored) == field_values(registration)
    assert stored.ticket_code and stored.created_at and stored.cancel_reason is None
    registration.status = "confirmed"
    registration.save(update_fields=["status"])  # an UPDATE now, not a second INSERT
    assert Registration.objects.get(pk=registration.pk).status == "confirmed"
    counts_refreshed(event)  # written around the services


def test_insert_new_can_skip_a_row_that_breaks_a_unique_constraint(registration):
    from registrations.models import Mail

    now = timezone.now()
    first = Mail(registration=registration, kind="reminder", give_up_at=now)
    second = Mail(registration=registration, kind="reminder", give_up_at=now)
    assert db.insert_new(first, ignore_conflicts=True) == 1
    assert db.insert_new(second, ignore_conflicts=True) == 0  # (registration, kind) is unique
    assert list(Mail.objects.filter(kind="reminder").values_list("pk", flat=True)) == [first.pk]
    with pytest.raises(IntegrityError), transaction.atomic():
        db.insert_new(Mail(registration=registration, kind="reminder", give_up_at=now))


def test_the_locked_event_read_is_the_orms_and_answers_who_may_see_it(organizer, member):
    from django.http import Http404

    from events.models import Event
    from events.selectors import event_get_locked
    from events.tests.factories import EventFactory

    draft = EventFactory(organizer=organizer, status=Event.Status.DRAFT)
    with transaction.atomic():
        assert field_values(event_get_locked(pk=draft.pk)) == field_values(Event.objects.get(pk=draft.pk))
        assert event_get_locked(pk=draft.pk, visible_to=organizer).pk == draft.pk
        with pytest.raises(Http404):
            event_get_locked(pk=draft.pk, visible_to=member)
        with pytest.raises(Http404):
            event_get_locked(pk=uuid.uuid4(), visible_to=member)
        with pytest.raises(Event.DoesNotExist):
            event_get_locked(pk=uuid.uuid4())


def test_identifiers_are_quoted_and_only_concrete_fields_have_columns():
    assert db.quote("accounts_user") == '"accounts_user"'
    assert db.quote('we"ird') == '"we""ird"'
    assert db.column(Registration, "user") == '"user_id"'
    with pytest.raises(ValueError):
        db.quote(None)
    with pytest.raises(TypeError):
        db.column(User, "registrations")  # a reverse relation
    with pytest.raises(TypeError):
        db.update(User, uuid.uuid4(), registrations=None)


def test_user_for_auth_reads_roles_and_refuses_a_malformed_id(organizer, member):
    assert user_get_for_auth(pk=organizer.pk)._eventmaster_roles == {"member", "organizer"}
    lone = User.objects.create(email="lone@example.org", full_name="L")
    assert user_get_for_auth(pk=lone.pk)._eventmaster_roles == frozenset()  # no group: still one row
    assert user_get_for_auth(pk=uuid.uuid4()) is None
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        user_get_for_auth(pk="not-a-uuid")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only: prepared statements")
def test_postgresql_prepares_the_hot_statements(organizer):
    for _ in range(6):
        user_get_for_auth(pk=organizer.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]
    assert any("accounts_user_groups" in statement for statement in statements), statements
