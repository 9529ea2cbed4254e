"""The anonymous event list and detail come from the public cache with an
ETag (eventmaster.public_cache): exact again as soon as a write that
changes them commits, never older than PUBLIC_CACHE_SECONDS, and never
cached for a signed-in caller."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from events import services
from events.models import Event
from events.tests.factories import EventFactory
from registrations.services import registration_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(organizer):
    return EventFactory(organizer=organizer, status="published", capacity=10)


def detail(client, event, **headers):
    return client.get(f"/api/v1/events/{event.pk}", headers=headers)


def test_a_second_anonymous_read_is_served_without_the_database(api_client, published):
    first = detail(api_client, published)
    assert first.status_code == 200 and first["Cache-Control"] == "public, max-age=1"
    assert "Authorization" in first["Vary"] and first["ETag"].startswith('"')
    with CaptureQueriesContext(connection) as queries:
        second = detail(api_client, published)
    assert len(queries) == 0
    assert second.content == first.content and second["ETag"] == first["ETag"]
    assert second.json()["id"] == str(published.pk)


@pytest.mark.parametrize("sent", ["{etag}", "W/{etag}", '"other", {etag}', "*"])
def test_if_none_match_is_304_without_a_body(api_client, published, sent):
    etag = detail(api_client, published)["ETag"]
    answer = detail(api_client, published, **{"If-None-Match": sent.format(etag=etag)})
    assert answer.status_code == 304 and answer.content == b"" and answer["ETag"] == etag


def test_another_etag_gets_the_page(api_client, published):
    answer = detail(api_client, published, **{"If-None-Match": '"stale"'})
    assert answer.status_code == 200 and answer.json()["registered_count"] == 0


def test_a_committed_registration_shows_at_once(api_client, published, django_capture_on_commit_callbacks):
    before = detail(api_client, published)
    listed = api_client.get("/api/v1/events").json()["items"][0]["registered_count"]
    assert (before.json()["registered_count"], listed) == (0, 0)
    with django_capture_on_commit_callbacks(execute=True):
        registration_create(event=published, user=UserFactory())
    after = detail(api_client, published)
    assert after.json()["registered_count"] == 1 and after["ETag"] != before["ETag"]
    assert api_client.get("/api/v1/events").json()["items"][0]["registered_count"] == 1


def test_event_writes_show_at_once(api_client, published, django_capture_on_commit_callbacks):
    draft = EventFactory(organizer=published.organizer, status="draft")
    assert api_client.get("/api/v1/events").json()["total"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.event_publish(event=draft)
        services.event_update(event=published, title="Renamed")
    assert api_client.get("/api/v1/events").json()["total"] == 2
    assert detail(api_client, published).json()["title"] == "Renamed"
    with django_capture_on_commit_callbacks(execute=True):
        services.event_cancel(event=published)
    assert detail(api_client, published).json()["status"] == "cancelled"


def test_a_rolled_back_write_invalidates_nothing_and_an_uninvalidated_page_expires(
    api_client, published, settings
):
    settings.PUBLIC_CACHE_SECONDS = 1
    detail(api_client, published)
    Event.objects.filter(pk=published.pk).update(title="Changed behind the services")
    assert detail(api_client, published).json()["title"] != "Changed behind the services"  # cached
    time.sleep(1.1)
    assert detail(api_client, published).json()["title"] == "Changed behind the services"


def test_query_strings_are_pages_of_their_own(api_client, published):
    EventFactory(status="published")
    assert api_client.get("/api/v1/events", {"limit": 1}).json()["total"] == 2
    assert len(api_client.get("/api/v1/events", {"limit": 1}).json()["items"]) == 1
    assert len(api_client.get("/api/v1/events").json()["items"]) == 2


def test_signed_in_callers_are_never_served_from_the_cache(organizer_client, api_client, published):
    detail(api_client, published)  # cached for anonymous callers
    Event.objects.filter(pk=published.pk).update(title="Exact for the signed-in")
    answer = detail(organizer_client, published)
    assert answer.json()["title"] == "Exact for the signed-in"
    assert "ETag" not in answer and "Authorization" in answer["Vary"]


def test_a_draft_is_not_cached_for_anyone(api_client, organizer_client, organizer):
    draft = EventFactory(organizer=organizer, status="draft")
    assert detail(api_client, draft).status_code == 404
    assert detail(organizer_client, draft).status_code == 200
    assert detail(api_client, draft).status_code == 404


def test_no_caching_when_switched_off(api_client, published, settings):
    settings.PUBLIC_CACHE_SECONDS = 0
    detail(api_client, published)
    Event.objects.filter(pk=published.pk).update(title="Fresh")
    answer = detail(api_client, published)
    assert answer.json()["title"] == "Fresh" and "ETag" not in answer
