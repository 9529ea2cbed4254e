"""A UUID in a path is read in any case (RFC 4122: hex digits are
case-insensitive on input), by one converter registered under its own name
(eventmaster/converters.py), used by every path that takes a UUID; the
schema still says ``format: uuid``."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from events.tests.factories import EventFactory
from registrations.services import registration_create

pytestmark = pytest.mark.django_db


def up(value) -> str:
    return str(value).upper()


def test_upper_case_ids_find_their_objects(organizer_client, admin_client, member_client, member, organizer):
    event = EventFactory(organizer=organizer)
    registration = registration_create(event=event, user=member)
    e_id, r_id = up(event.pk), up(registration.pk)
    assert e_id != str(event.pk)
    gets = {
        organizer_client: [
            f"/api/v1/events/{e_id}",
            f"/api/v1/events/{e_id}/calendar.ics",
            f"/api/v1/events/{e_id}/attendees",
            f"/api/v1/events/{e_id}/attendees.csv",
            f"/api/v1/events/{e_id}/checkin-stats",
            f"/api/v1/events/{e_id}/staff",
            f"/api/v1/registrations/{r_id}",
            f"/api/v1/registrations/{r_id}/qr.svg",
            f"/api/v1/registrations/{r_id}/qr.png",
        ],
        admin_client: [f"/api/v1/users/{up(member.pk)}"],
    }
    for client, paths in gets.items():
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
    assert organizer_client.get(f"/api/v1/events/{e_id}").json()["id"] == str(event.pk)
    assert admin_client.patch(f"/api/v1/users/{up(member.pk)}", {"full_name": "Ada"}).status_code == 200
    assert organizer_client.patch(f"/api/v1/events/{e_id}", {"title": "Upper"}).status_code == 200
    other = EventFactory()
    response = member_client.post(f"/api/v1/events/{up(other.pk)}/registrations")
    assert response.status_code == 201, response.content
    assert member_client.post(f"/api/v1/registrations/{r_id}/cancel").status_code == 200


def test_upper_case_user_id_unassigns_staff(organizer_client, organizer, checkin_user):
    event = EventFactory(organizer=organizer)
    event.staff.add(checkin_user)
    response = organizer_client.delete(f"/api/v1/events/{up(event.pk)}/staff/{up(checkin_user.pk)}")
    assert response.status_code == 204
    assert not event.staff.exists()


@pytest.mark.parametrize(
    "path",
    ["/api/v1/events/12345", "/api/v1/events/6F9619FF-8B86-D011-B42D-00C04FC964FG", "/api/v1/users/nope"],
)
def test_what_is_no_uuid_is_still_404(admin_client, path):
    assert admin_client.get(path).status_code == 404


def walk(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from walk(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route


def test_no_path_uses_the_lower_case_only_uuid_converter():
    routes = list(walk(get_resolver()))
    assert any("<anyuuid:" in r for r in routes)
    assert not [r for r in routes if "<uuid:" in r]
    # Regex routes (DRF's routers by default) would not say what they take.
    assert not [r for r in routes if r.startswith("api/v1/") and "(?P<" in r]


def test_the_schema_says_format_uuid_for_every_id_in_a_path():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    params = [
        (path, p)
        for path, operations in schema["paths"].items()
        for operation in operations.values()
        for p in operation.get("parameters", [])
        if p["in"] == "path"
    ]
    assert len(params) >= 20
    for path, param in params:
        assert param["schema"] == {"type": "string", "format": "uuid"}, (path, param)
