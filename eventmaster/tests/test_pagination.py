"""The {items,total,limit,offset} shape and its strict parameters (on /users)."""

import pytest

from accounts.tests.factories import UserFactory
from eventmaster.tests.utils import assert_error

pytestmark = pytest.mark.django_db

USERS = "/api/v1/users"


@pytest.fixture
def users(admin_user):
    return [admin_user, *UserFactory.create_batch(24)]


def test_default_page(admin_client, users):
    body = admin_client.get(USERS).json()
    assert (body["total"], body["limit"], body["offset"], len(body["items"])) == (25, 20, 0, 20)


def test_pages_are_disjoint_and_cover_everything(admin_client, users):
    seen = []
    for offset in range(0, 25, 7):
        seen += [u["id"] for u in admin_client.get(f"{USERS}?limit=7&offset={offset}").json()["items"]]
    assert len(seen) == len(set(seen)) == 25


def test_limit_above_max_is_clamped(admin_client, users):
    body = admin_client.get(f"{USERS}?limit=1000").json()
    assert body["limit"] == 100 and len(body["items"]) == 25


@pytest.mark.parametrize(
    "value", ["101", "999999999999999999", str(10**20), "9" * 40, "0" * 30 + "500", "9" * 5000]
)
def test_any_limit_above_max_is_clamped_however_long(admin_client, users, value):
    response = admin_client.get(f"{USERS}?limit={value}")
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert body["limit"] == 100 and len(body["items"]) == 25


MAX_OFFSET = 2**63 - 1  # PostgreSQL's bigint: no OFFSET beyond it is ever sent


@pytest.mark.parametrize(
    ("value", "echoed"),
    [
        ("999999999999999", 999999999999999),
        (str(MAX_OFFSET), MAX_OFFSET),
        (str(MAX_OFFSET + 1), MAX_OFFSET),
        (str(10**20), MAX_OFFSET),
        ("9" * 40, MAX_OFFSET),
        ("9" * 5000, MAX_OFFSET),
    ],
)
def test_offset_past_the_end_is_an_empty_page(admin_client, users, value, echoed):
    response = admin_client.get(f"{USERS}?offset={value}")
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert (body["items"], body["total"], body["offset"]) == ([], 25, echoed)


def test_huge_offsets_on_other_lists_too(admin_client, organizer_client, users):
    for url in ("/api/v1/events", "/api/v1/events/managed", "/api/v1/me/registrations"):
        for client in (admin_client, organizer_client):
            response = client.get(f"{url}?offset={10**20}&limit={10**20}")
            assert response.status_code == 200, (url, response.content[:300])
            assert (response.json()["items"], response.json()["limit"]) == ([], 100)


def test_total_counts_filter_matches_not_the_page(admin_client, users):
    body = admin_client.get(f"{USERS}?limit=1&role=member").json()
    assert body["total"] == 25 and len(body["items"]) == 1


@pytest.mark.parametrize(
    "value", ["0", "-1", "abc", "1.5", "", " 5", "1e3", "%00", "0" * 40, "-" + "9" * 40, "+5"]
)
def test_bad_limit_is_400(admin_client, value):
    assert_error(admin_client.get(f"{USERS}?limit={value}"), 400, "invalid", attr="limit")


@pytest.mark.parametrize("value", ["-1", "abc", "2.0", "", "-" + "9" * 40, "1e30", "+5", "٣"])
def test_bad_offset_is_400(admin_client, value):
    assert_error(admin_client.get(f"{USERS}?offset={value}"), 400, "invalid", attr="offset")
