"""The audit trail's plumbing (eventmaster.audit): the hash chain, its
verification, the append-only triggers, on SQLite and PostgreSQL. Which
action writes which entry: test_audit_trail.py."""

import threading
import time
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from eventmaster import audit
from eventmaster.models import AuditEntry, DomainEvent

pytestmark = pytest.mark.django_db


def append(n: int, *, via: str = audit.COMMAND) -> None:
    with audit.acting(via=via, label="tester"):
        for i in range(n):
            audit.record(
                "event.updated", object_type="event", object_id=f"e{i}", changes={"title": (f"a{i}", f"b{i}")}
            )


def triggers_off():
    """What someone with the database owner's rights can do: lift the
    append-only triggers (the chain still tells)."""
    with connection.cursor() as cursor:
        for statement in audit.append_only_statements(connection.vendor, install=False):
            cursor.execute(statement)


def verify_fails(match: str) -> None:
    with pytest.raises(CommandError, match=match):
        call_command("audit_verify")


class TestChain:
    def test_entries_link_to_their_predecessor_and_verify(self, capsys):
        append(3)
        entries = list(AuditEntry.objects.order_by("seq"))
        assert [e.seq for e in entries] == [1, 2, 3]
        assert entries[0].prev_hash == audit.GENESIS
        assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
        assert all(audit.entry_hash(e) == e.hash for e in entries)
        assert entries[0].changes == {"title": ["a0", "b0"]}
        assert (entries[0].actor, entries[0].via, entries[0].actor_id) == ("tester", "command", None)
        call_command("audit_verify")
        assert f"audit chain OK: 3 entries; head #3 {entries[-1].hash}" in capsys.readouterr().out

    def test_every_record_is_a_domain_event_and_unknown_types_are_refused(self):
        append(2)
        assert DomainEvent.objects.filter(type="event.updated").count() == 2
        assert DomainEvent.objects.get(object_id="e1").data == {"changes": {"title": ["a1", "b1"]}}
        with pytest.raises(ValueError, match="unknown domain event type"):
            audit.record("event.exploded", object_type="event", object_id="x")

    def test_an_empty_chain_verifies(self, capsys):
        call_command("audit_verify")
        assert f"0 entries; head #0 {audit.GENESIS}" in capsys.readouterr().out

    def test_a_rolled_back_change_leaves_no_record(self):
        with pytest.raises(RuntimeError), transaction.atomic():
            append(2)
            raise RuntimeError("the change fails after recording")
        assert not AuditEntry.objects.exists() and not DomainEvent.objects.exists()

    def test_many_objects_extend_the_chain_once_in_order(self):
        append(1)
        with audit.acting(via=audit.COMMAND):
            audit.record_many(
                "registration.promoted",
                object_type="registration",
                objects=[(f"r{i}", None) for i in range(5)],
                changes={"status": ("waitlisted", "confirmed")},
            )
        assert list(AuditEntry.objects.order_by("seq").values_list("object_id", flat=True)) == [
            "e0", "r0", "r1", "r2", "r3", "r4"
        ]  # fmt: skip
        assert audit.verify().ok and DomainEvent.objects.count() == 6


class TestAppendOnly:
    def test_update_and_delete_are_refused_by_the_database(self):
        append(2)
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            AuditEntry.objects.filter(seq=1).update(actor="someone else")
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            AuditEntry.objects.filter(seq=2).delete()
        with (
            pytest.raises(IntegrityError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("DELETE FROM eventmaster_auditentry")
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            entry = AuditEntry.objects.get(seq=1)
            entry.actor = "someone else"
            entry.save()
        assert AuditEntry.objects.count() == 2 and audit.verify().ok


class TestVerify:
    def test_an_altered_entry_is_named(self):
        append(5)
        triggers_off()
        AuditEntry.objects.filter(seq=3).update(changes={"title": ["a2", "innocent"]})
        verify_fails(r"BROKEN at entry #3: entry #3 does not match its hash \(altered\)")

    def test_an_altered_entry_with_a_recomputed_hash_breaks_the_next_link(self):
        append(5)
        triggers_off()
        entry = AuditEntry.objects.get(seq=3)
        entry.actor = "someone else"
        entry.hash = audit.entry_hash(entry)
        entry.save()
        verify_fails(r"BROKEN at entry #4: entry #4 does not follow entry #3")

    def test_a_removed_entry_is_named(self):
        append(5)
        triggers_off()
        AuditEntry.objects.filter(seq=2).delete()
        verify_fails(r"BROKEN at entry #2: entry #2 is missing \(removed\)")

    def test_an_inserted_entry_is_named(self):
        append(3)
        head = AuditEntry.objects.get(seq=3)
        # Appended by hand, at the end, with a hash of its own making: it
        # does not follow the real head (no trigger is needed to INSERT).
        forged = AuditEntry(
            seq=4, at=timezone.now(), action="role.granted", actor="nobody", via="api",
            object_type="user", object_id="u1", prev_hash="f" * 64,
        )  # fmt: skip
        forged.hash = audit.entry_hash(forged)
        forged.save(force_insert=True)
        verify_fails(r"BROKEN at entry #4: entry #4 does not follow entry #3")
        assert head.hash != forged.prev_hash

    def test_a_removed_tail_is_caught_by_the_kept_head(self, capsys):
        append(4)
        kept = AuditEntry.objects.get(seq=4).hash
        call_command("audit_verify", expect_head=kept)
        triggers_off()
        AuditEntry.objects.filter(seq__gte=3).delete()
        call_command("audit_verify")  # what is left is a valid chain...
        with pytest.raises(CommandError, match=f"the kept head {kept} is not in the chain"):
            call_command("audit_verify", expect_head=kept)  # ...but not the one that was kept


@pytest.mark.django_db(transaction=True)
def test_flush_lifts_the_triggers_and_puts_them_back():
    append(2)
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEntry.objects.exists()
    append(1)
    with pytest.raises(IntegrityError, match="append-only"):
        AuditEntry.objects.all().delete()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL: parallel writers")
def test_20_parallel_administrative_actions_leave_one_unforked_chain():
    append(1)
    barrier, errors = threading.Barrier(20), []

    def act(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            with audit.acting(via=audit.COMMAND, label=f"worker {i}"), transaction.atomic():
                audit.record("event.updated", object_type="event", object_id=f"p{i}")
                # Hold the transaction a little: without the chain's lock,
                # every one of them would read the same head.
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_sleep(0.02)")
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=act, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    entries = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == list(range(1, 22))
    assert len({e.prev_hash for e in entries}) == 21  # no two entries after the same one
    assert audit.verify().ok
    assert max(e.at for e in entries) - min(e.at for e in entries) < timedelta(minutes=1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL: TRUNCATE")
def test_truncate_is_refused_too():
    append(1)
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE eventmaster_auditentry")
    assert AuditEntry.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL: parallel writers")
@pytest.mark.parametrize("change", ["staff.added", "role.granted"])
def test_the_same_change_made_twice_at_once_is_recorded_once(change):
    """The second request runs while the first has made the change and not
    committed yet: it waits for the first (the row lock), sees the change,
    and records nothing."""
    from accounts.models import User
    from accounts.services import user_grant_role
    from accounts.tests.factories import UserFactory
    from eventmaster.roles import Role
    from events.models import Event
    from events.services import event_staff_add
    from events.tests.factories import EventFactory

    door = UserFactory(roles=[Role.MEMBER, Role.CHECKIN])
    event = EventFactory()

    def act() -> None:
        if change == "staff.added":
            event_staff_add(event=Event.objects.get(pk=event.pk), user=User.objects.get(pk=door.pk))
        else:
            user_grant_role(user=User.objects.get(pk=door.pk), role=Role.ORGANIZER)

    inside, errors = threading.Event(), []

    def first() -> None:
        try:
            with transaction.atomic():
                act()
                inside.set()
                time.sleep(0.5)  # the second runs meanwhile
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def second() -> None:
        try:
            assert inside.wait(timeout=10)
            act()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert DomainEvent.objects.filter(type=change).count() == 1
    assert AuditEntry.objects.filter(action=change).count() == 1
