"""Entry and exit, and scans made offline synced in a batch
(POST /checkin/batch), on both databases: docs/api.md, "Offline scans"."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from checkin.models import Scan
from checkin.tests.test_api_checkin import body_of
from eventmaster.models import DomainEvent
from eventmaster.tests.utils import assert_error, client_for
from registrations import signing
from registrations.models import Registration
from registrations.services import registration_cancel, registration_create

pytestmark = pytest.mark.django_db


def stats(client, event) -> dict:
    return client.get(f"/api/v1/events/{event.pk}/checkin-stats").json()


class TestInAndOut:
    def test_exit_and_re_entry(self, scan, registration, event, organizer_client):
        first = body_of(scan(registration.ticket_code, direction="in", device="door-1"), "ok")
        assert first["checked_in_device"] == "door-1"
        body_of(scan(registration.ticket_code), "already_checked_in")  # a second in without an out
        assert stats(organizer_client, event)["inside"] == 1
        body_of(scan(registration.ticket_code, direction="out", device="door-2"), "ok")
        assert stats(organizer_client, event)["inside"] == 0
        body_of(scan(registration.ticket_code, direction="out"), "not_inside")
        again = body_of(scan(registration.ticket_code, direction="in", device="door-3"), "ok")  # re-entry
        # The check-in stays the first entry's.
        assert (again["checked_in_at"], again["checked_in_device"]) == (first["checked_in_at"], "door-1")
        stats_now = stats(organizer_client, event)
        assert (stats_now["inside"], stats_now["checked_in"]) == (1, 1)
        assert sum(a["count"] for a in stats_now["arrivals"]) == 1  # one arrival, not two
        actions = list(Scan.objects.order_by("id").values_list("action", "result", "device"))
        assert actions == [
            ("checkin", "ok", "door-1"), ("checkin", "already_checked_in", ""), ("checkout", "ok", "door-2"),
            ("checkout", "not_inside", ""), ("checkin", "ok", "door-3"),
        ]  # fmt: skip
        assert DomainEvent.objects.filter(type="checkin.created").count() == 1  # the first entry only
        body_of(scan(registration.ticket_code, path="/api/v1/checkin/undo"), "undone")
        assert not Registration.objects.get(pk=registration.pk).inside

    def test_an_exit_before_any_entry_and_the_refusals(self, scan, registration, member):
        body_of(scan(registration.ticket_code, direction="out"), "not_inside")
        registration_cancel(registration=registration, by=member)
        body_of(scan(registration.ticket_code, direction="out"), "cancelled")
        body_of(scan("nothing-like-it", direction="out"), "invalid")

    def test_a_nonce_again_with_the_other_direction_is_no_retry(self, scan, registration):
        nonce = str(uuid.uuid4())
        body_of(scan(registration.ticket_code, nonce=nonce), "ok")
        assert_error(scan(registration.ticket_code, nonce=nonce, direction="out"), 409, "nonce_reused")
        assert Registration.objects.get(pk=registration.pk).inside

    def test_a_bad_direction_is_400(self, scan, registration):
        assert_error(scan(registration.ticket_code, direction="sideways"), 400, "invalid_choice", "direction")


@pytest.fixture
def batch(organizer_client, event):
    def post(scans, *, client=None, device="phone-1", event_id=None):
        body = {"event_id": str(event_id or event.pk), "scans": scans}
        if device is not None:
            body["device"] = device
        return (client or organizer_client).post("/api/v1/checkin/batch", body, format="json")

    return post


def offline(code: str, minutes_ago: float, direction: str = "in") -> dict:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return {
        "nonce": str(uuid.uuid4()),
        "ticket_code": code,
        "scanned_at": at.isoformat(),
        "direction": direction,
    }


def results(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [r["result"] for r in response.json()["results"]]


class TestBatch:
    def test_one_result_per_scan_in_order_and_every_scan_logged_with_its_device(self, batch, event, member):
        ann = registration_create(event=event, user=UserFactory())
        bob = registration_create(event=event, user=UserFactory())
        gone = registration_create(event=event, user=member)
        registration_cancel(registration=gone, by=member)
        raw = signing.sign(bob)
        forged = raw[:-2] + ("AA" if raw[-2:] != "AA" else "BB")
        scans = [
            offline(ann.ticket_code, 5),
            offline(signing.sign(bob), 4),
            offline(gone.ticket_code, 3),  # cancelled since
            offline(forged, 2),
            offline(ann.ticket_code, 1, "out"),
        ]
        answer = batch(scans)
        assert results(answer) == ["ok", "ok", "cancelled", "invalid", "ok"]
        assert [r["registration"]["id"] if r["registration"] else None for r in answer.json()["results"]] == [
            str(ann.pk), str(bob.pk), str(gone.pk), None, str(ann.pk)
        ]  # fmt: skip
        logged = list(Scan.objects.order_by("id").values_list("nonce", "device", "scanned_at"))
        assert {str(nonce) for nonce, _, _ in logged} == {s["nonce"] for s in scans}
        assert {device for _, device, _ in logged} == {"phone-1"} and all(at for _, _, at in logged)
        assert not Registration.objects.get(pk=ann.pk).inside  # in, then out

    def test_of_one_tickets_entries_the_earliest_wins(self, batch, registration):
        later, earlier = offline(registration.ticket_code, 1), offline(registration.ticket_code, 9)
        answer = batch([later, earlier])
        assert results(answer) == ["already_checked_in", "ok"]
        loser, winner = answer.json()["results"]
        assert loser["checked_in_at"] == winner["checked_in_at"] and loser["checked_in_device"] == "phone-1"
        assert Scan.objects.get(nonce=earlier["nonce"]).result == "ok"

    def test_a_batch_sent_again_changes_nothing(self, batch, registration, event):
        scans = [offline(registration.ticket_code, 3), offline(registration.ticket_code, 2, "out")]
        first = batch(scans).json()
        rows = Scan.objects.count()
        again = batch(scans).json()
        assert again == first and Scan.objects.count() == rows

    def test_two_offline_devices_then_both_sync_one_ok(self, batch, registration, event, staff_client):
        first = results(batch([offline(registration.ticket_code, 6)], device="door-a"))
        second = batch([offline(registration.ticket_code, 4)], client=staff_client, device="door-b")
        assert first == ["ok"] and results(second) == ["already_checked_in"]
        assert second.json()["results"][0]["checked_in_device"] == "door-a"
        assert Scan.objects.filter(result="ok").count() == 1

    def test_an_earlier_entry_synced_later_wins(self, batch, registration, event, staff_client, checkin_user):
        late = [offline(registration.ticket_code, 4)]
        early = [offline(registration.ticket_code, 6)]
        assert results(batch(late, device="door-b")) == ["ok"]  # the first to sync
        answer = batch(early, client=staff_client, device="door-a")
        assert results(answer) == ["ok"]  # made first: it wins
        registration.refresh_from_db()
        assert (registration.checked_in_device, registration.checked_in_by) == ("door-a", checkin_user)
        assert answer.json()["results"][0]["checked_in_device"] == "door-a"
        by_nonce = dict(Scan.objects.values_list("nonce", "result"))
        assert by_nonce == {
            uuid.UUID(late[0]["nonce"]): "already_checked_in",
            uuid.UUID(early[0]["nonce"]): "ok",
        }
        # Sent again, each gets the log's answer; still one arrival, one event.
        assert results(batch(late, device="door-b")) == ["already_checked_in"]
        stats = staff_client.get(f"/api/v1/events/{event.pk}/checkin-stats").json()
        assert (stats["checked_in"], stats["inside"], sum(a["count"] for a in stats["arrivals"])) == (1, 1, 1)
        assert DomainEvent.objects.filter(type="checkin.created").count() == 1

    def test_an_offline_entry_before_an_online_one_wins(self, batch, scan, registration):
        body_of(scan(registration.ticket_code, device="door-online"), "ok")
        assert results(batch([offline(registration.ticket_code, 5)], device="door-offline")) == ["ok"]
        assert Registration.objects.get(pk=registration.pk).checked_in_device == "door-offline"
        assert sorted(Scan.objects.values_list("result", flat=True)) == ["already_checked_in", "ok"]

    def test_a_live_scan_never_overtakes(self, scan, batch, registration):
        assert results(batch([offline(registration.ticket_code, 1)], device="door-b")) == ["ok"]
        at = (timezone.now() - timedelta(minutes=5)).isoformat()
        body_of(scan(registration.ticket_code, device="door-a", scanned_at=at), "already_checked_in")
        assert Registration.objects.get(pk=registration.pk).checked_in_device == "door-b"

    def test_a_clock_running_ahead_does_not_make_an_entry_easy_to_overtake(self, batch, registration):
        # Door B's clock is an hour fast; door A's entry came after B's was recorded.
        assert results(batch([offline(registration.ticket_code, -60)], device="door-b")) == ["ok"]
        assert results(batch([offline(registration.ticket_code, 0)], device="door-a")) == [
            "already_checked_in"
        ]
        assert Registration.objects.get(pk=registration.pk).checked_in_device == "door-b"

    def test_no_overtaking_after_an_undo_and_a_new_check_in(self, scan, batch, registration):
        code = registration.ticket_code
        assert results(batch([offline(code, 2)], device="door-b")) == ["ok"]
        body_of(scan(code, path="/api/v1/checkin/undo"), "undone")
        assert results(batch([offline(code, 1)], device="door-b")) == ["ok"]
        assert results(batch([offline(code, 6)], device="door-a")) == ["already_checked_in"]

    def test_no_overtaking_once_the_ticket_went_out_or_in_again(self, batch, registration):
        code = registration.ticket_code
        moves = [offline(code, 4), offline(code, 3, "out"), offline(code, 2)]
        assert results(batch(moves, device="door-b")) == ["ok", "ok", "ok"]
        assert results(batch([offline(code, 6)], device="door-a")) == ["already_checked_in"]
        assert Registration.objects.get(pk=registration.pk).checked_in_device == "door-b"

    def test_a_later_entry_synced_later_does_not_overtake(self, batch, registration):
        assert results(batch([offline(registration.ticket_code, 6)], device="door-a")) == ["ok"]
        assert results(batch([offline(registration.ticket_code, 4)], device="door-b")) == [
            "already_checked_in"
        ]
        assert Registration.objects.get(pk=registration.pk).checked_in_device == "door-a"

    def test_a_reused_nonce_is_that_scans_result_not_the_batchs_failure(self, batch, event):
        ann = registration_create(event=event, user=UserFactory())
        bob = registration_create(event=event, user=UserFactory())
        scan = offline(ann.ticket_code, 2)
        batch([scan])
        reused = {**scan, "ticket_code": bob.ticket_code}
        assert results(batch([reused, offline(bob.ticket_code, 1)])) == ["nonce_reused", "ok"]

    def test_bad_batches_are_400_and_the_door_is_checked(self, batch, registration, member_client, event):
        good = offline(registration.ticket_code, 1)
        assert_error(batch([]), 400, "empty", "scans")
        assert_error(batch([good] * 501), 400, "max_length", "scans")
        assert_error(batch([{**good, "nonce": None}]), 400, "null", "scans.0.nonce")
        assert_error(batch([{**good, "direction": "up"}]), 400, "invalid_choice", "scans.0.direction")
        assert_error(batch([{**good, "ticket_code": 0}]), 400, "invalid", "scans.0.ticket_code")
        assert_error(batch([None]), 400, "null", "scans.0")
        assert_error(batch(["a code"]), 400, "invalid", "scans.0.non_field_errors")
        assert_error(
            batch([{k: v for k, v in good.items() if k != "scanned_at"}]),
            400,
            "required",
            "scans.0.scanned_at",
        )
        assert_error(batch([good], event_id=uuid.uuid4()), 400, "does_not_exist", "event_id")
        assert_error(batch([good], client=member_client), 403, "permission_denied")
        elsewhere = client_for(UserFactory(roles=["member", "checkin"]))
        assert_error(batch([good], client=elsewhere), 403, "permission_denied")
        assert not Scan.objects.exists()


def test_a_check_in_by_code_that_knows_no_exits_leaves_the_attendee_inside(scan, registration, event):
    """An instance still on the previous version during a deploy sets only
    checked_in_at: the attendee is inside, a second entry is refused."""
    Registration.objects.filter(pk=registration.pk).update(checked_in_at=timezone.now())
    body_of(scan(registration.ticket_code), "already_checked_in")
    body_of(scan(registration.ticket_code, direction="out"), "ok")


def test_a_huge_batch_is_refused_before_its_scans_are_read(
    batch, registration, django_assert_max_num_queries
):
    scans = [offline(registration.ticket_code, 1)] * 5_000
    with django_assert_max_num_queries(2):  # the caller; nothing else
        assert_error(batch(scans), 400, "max_length", "scans")
