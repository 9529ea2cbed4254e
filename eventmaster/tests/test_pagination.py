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


def test_offset_past_the_end_is_an_empty_page(admin_client, users):
    body = admin_client.get(f"{USERS}?offset=999999999999999").json()
    assert body["items"] == [] and body["total"] == 25


def test_total_counts_filter_matches_not_the_page(admin_client, users):
    body = admin_client.get(f"{USERS}?limit=1&role=member").json()
    assert body["total"] == 25 and len(body["items"]) == 1


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5", "", " 5", "1e3", "%00"])
def test_bad_limit_is_400(admin_client, value):
    assert_error(admin_client.get(f"{USERS}?limit={value}"), 400, "invalid", attr="limit")


@pytest.mark.parametrize("value", ["-1", "abc", "2.0", "", "9" * 40])
def test_bad_offset_is_400(admin_client, value):
    assert_error(admin_client.get(f"{USERS}?offset={value}"), 400, "invalid", attr="offset")
