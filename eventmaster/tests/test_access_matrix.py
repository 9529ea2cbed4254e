"""Every API route, for every kind of caller, on their own and foreign rows.

The routes come from the URLconf, not from a list kept by hand: a new
endpoint is in this matrix the day it is added. Each view declares the rule
of each action (``access``) and the rule its rows are found with
(``scope_rule``); the test fails for a route that declares none, and checks
that every route answers as its rules say:

- 401 without a token, unless the rule lets anyone in;
- 404 for a row outside the caller's scope (400 ``does_not_exist`` where the
  row is named in the body, as the door's event is);
- 403 for a row in scope that the action's rule refuses, or a caller rule
  (a role) the caller lacks;
- anything else (2xx, or a 4xx of the domain) when the rules allow.

events/tests/test_rules.py checks the rules themselves against the roles
table of the API guide, so together they pin who may do what.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from eventmaster.api.permissions import RuleAccess
from eventmaster.roles import Role
from eventmaster.rules import Rule
from eventmaster.tests.utils import client_for
from events.models import Event, WebhookEndpoint
from events.tests.factories import EventFactory
from events.webhooks import ping as webhook_ping
from registrations.services import registration_create

pytestmark = pytest.mark.django_db

# Third-party views under /api/v1/, public by design.
PUBLIC_THIRD_PARTY = {
    "api/v1/schema": "the OpenAPI document",
    "api/v1/docs": "the Swagger UI of that document",
}

ACTORS = (
    "anonymous",
    "member",
    "organizer",
    "other_organizer",
    "unassigned_staff",
    "assigned_staff",
    "admin",
)


@dataclass(frozen=True)
class Route:
    path: str
    method: str
    view: type
    action: str

    @property
    def id(self) -> str:
        return f"{self.method.upper()} /{self.path}"

    def kwargs_names(self) -> list[str]:
        return re.findall(r"<\w+:(\w+)>", self.path)


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def api_routes() -> list[Route]:
    routes = []
    for path, pattern in _walk(get_resolver().url_patterns):
        if not path.startswith("api/v1/") or path in PUBLIC_THIRD_PARTY:
            continue
        view = getattr(pattern.callback, "cls", None)
        actions = getattr(pattern.callback, "actions", None)
        if actions:
            served = dict(actions)
        else:
            served = {m: m for m in ("get", "post", "patch", "put", "delete") if view and hasattr(view, m)}
        for method, action in served.items():
            routes.append(Route(path, method, view, action))
    return routes


ROUTES = api_routes()


def test_the_matrix_covers_the_api():
    assert len(ROUTES) >= 30, [r.id for r in ROUTES]


@pytest.mark.parametrize("route", ROUTES, ids=[r.id for r in ROUTES])
def test_every_route_declares_its_rule(route):
    assert issubclass(route.view, RuleAccess), (
        f"{route.id}: {route.view.__name__} does not declare access rules"
    )
    rule = route.view.access.get(route.action)
    assert isinstance(rule, Rule), f"{route.id}: no rule for action {route.action!r}"
    if rule.object_rule and not rule.anonymous:
        assert route.view.scope_rule is not None, f"{route.id}: an object rule needs the view's scope_rule"


# --- the world every case runs in ------------------------------------------------


@dataclass
class World:
    users: dict
    events: dict  # own/foreign x published/draft
    registrations: dict  # own (the member's, on own published) / foreign
    spare_staff: object
    webhooks: dict  # own (the organizer's) / foreign (the other organizer's) endpoint
    deliveries: dict  # endpoint id -> one of its deliveries


@pytest.fixture
def world() -> World:
    organizer = UserFactory(roles=[Role.MEMBER, Role.ORGANIZER])
    other = UserFactory(roles=[Role.MEMBER, Role.ORGANIZER])
    users = {
        "member": UserFactory(roles=[Role.MEMBER]),
        "organizer": organizer,
        "other_organizer": other,
        "unassigned_staff": UserFactory(roles=[Role.MEMBER, Role.CHECKIN]),
        "assigned_staff": UserFactory(roles=[Role.MEMBER, Role.CHECKIN]),
        "admin": UserFactory(roles=[Role.MEMBER, Role.ADMIN]),
    }
    spare = UserFactory(roles=[Role.MEMBER, Role.CHECKIN])
    events = {
        ("own", "published"): EventFactory(organizer=organizer, capacity=50),
        ("own", "draft"): EventFactory(organizer=organizer, status=Event.Status.DRAFT),
        ("foreign", "published"): EventFactory(organizer=other, capacity=50),
        ("foreign", "draft"): EventFactory(organizer=other, status=Event.Status.DRAFT),
    }
    for (owner, _), event in events.items():
        event.staff.add(spare)
        if owner == "own":
            event.staff.add(users["assigned_staff"])
    registrations = {
        "own": registration_create(event=events[("own", "published")], user=users["member"]),
        "foreign": registration_create(event=events[("foreign", "published")], user=UserFactory()),
    }
    webhooks = {
        "own": WebhookEndpoint.objects.create(organizer=organizer, url="http://127.0.0.1:9/own"),
        "foreign": WebhookEndpoint.objects.create(organizer=other, url="http://127.0.0.1:9/foreign"),
    }
    deliveries = {endpoint.pk: webhook_ping(endpoint).pk for endpoint in webhooks.values()}
    return World(users, events, registrations, spare, webhooks, deliveries)


def objects_for(route: Route) -> list[str]:
    names = route.kwargs_names()
    if route.path.startswith(("api/v1/registrations/", "api/v1/webhooks/")):
        return ["own", "foreign"]
    if any(name in ("pk", "event_id") for name in names) and "users" not in route.path:
        return ["own/published", "own/draft", "foreign/published", "foreign/draft"]
    if route.path in ("api/v1/checkin", "api/v1/checkin/undo"):
        return ["own/published", "own/draft", "foreign/published", "foreign/draft"]
    return ["-"]


CASES = [
    pytest.param(route, actor, obj, id=f"{route.id} as {actor} on {obj}")
    for route in ROUTES
    for actor in ACTORS
    for obj in objects_for(route)
]


def _object(world: World, obj: str, route: Route):
    if obj in ("own", "foreign"):
        return (world.webhooks if route.path.startswith("api/v1/webhooks/") else world.registrations)[obj]
    if obj == "-":
        return None
    owner, status = obj.split("/")
    return world.events[(owner, status)]


def _request(route: Route, world: World, actor_user, target):
    """The URL and a well-formed body for ``route`` on ``target``."""
    path = "/" + route.path
    for name in route.kwargs_names():
        if name in ("pk", "event_id"):
            value = world.users["member"].pk if route.path.startswith("api/v1/users/") else target.pk
        elif name == "user_id":
            value = world.spare_staff.pk
        elif name == "delivery_id":
            value = world.deliveries[target.pk]
        else:
            raise AssertionError(f"{route.id}: no value for {name}")
        path = path.replace(path[path.index("<") : path.index(">") + 1], str(value), 1)
    start = timezone.now() + timedelta(days=30)
    bodies = {
        "api/v1/auth/register": {
            "email": "fresh@example.org",
            "password": "a-long-Passphrase-9",
            "full_name": "F",
        },
        "api/v1/auth/login": {"email": "nobody@example.org", "password": "wrong-password"},
        "api/v1/auth/refresh": {"refresh": str(RefreshToken.for_user(world.users["member"]))},
        "api/v1/auth/logout": {
            "refresh": str(
                RefreshToken.for_user(world.users["member"] if actor_user.is_anonymous else actor_user)
            ),
        },
        "api/v1/me": {"full_name": "Renamed"},
        "api/v1/me/password": {"current_password": "wrong", "new_password": "a-long-Passphrase-9"},
        "api/v1/events": {
            "title": "New",
            "start_at": start.isoformat(),
            "end_at": (start + timedelta(hours=1)).isoformat(),
            "capacity": 5,
        },
        "api/v1/checkin": {"ticket_code": "no-such-ticket", "event_id": str(getattr(target, "pk", ""))},
        "api/v1/checkin/undo": {"ticket_code": "no-such-ticket", "event_id": str(getattr(target, "pk", ""))},
    }
    if route.path.endswith("/staff") and route.method == "post":
        body = {"user_id": str(world.spare_staff.pk)}
    elif route.path.startswith("api/v1/users/"):
        body = {"full_name": "Renamed"}
    elif route.method == "patch" and "events/" in route.path:
        body = {"title": "Renamed"}
    elif route.path == "api/v1/webhooks" and route.method == "post":
        body = {"url": "http://127.0.0.1:9/new"}
    elif route.method == "patch" and route.path.startswith("api/v1/webhooks/"):
        body = {"active": True}
    else:
        body = bodies.get(route.path) if route.method in ("post", "patch") else None
    return path, body


def expected(route: Route, actor: str, actor_user, target) -> str:
    """What the rules say: "401", "403", "not found" or "allowed", in the
    order the API decides (the caller first, then the row)."""
    rule: Rule = route.view.access[route.action]
    if actor == "anonymous" and not rule.anonymous:
        return "401"
    if not rule.object_rule and not rule.allows(actor_user):
        return "403"
    scope: Rule | None = route.view.scope_rule
    if target is None or scope is None:
        return "allowed"
    if not scope.allows(actor_user, target):
        return "not found"
    if rule.object_rule and rule is not scope and not rule.allows(actor_user, target):
        return "403"
    return "allowed"


@pytest.mark.parametrize(("route", "actor", "obj"), CASES)
def test_route_answers_as_its_rules_say(route, actor, obj, world):
    actor_user = AnonymousUser() if actor == "anonymous" else world.users[actor]
    client = _anonymous() if actor == "anonymous" else client_for(actor_user)
    target = _object(world, obj, route)
    path, body = _request(route, world, actor_user, target)
    response = getattr(client, route.method)(path, body, format="json")
    want = expected(route, actor, actor_user, target)
    status = response.status_code
    detail = f"{route.id} as {actor} on {obj}: {status} {getattr(response, 'content', b'')[:300]!r}"
    assert status < 500, detail
    if want == "401":
        assert status == 401, detail
    elif want == "403":
        assert status == 403, detail
    elif want == "not found":
        if route.path.startswith("api/v1/checkin"):
            assert status == 400 and response.json()["errors"][0]["code"] == "does_not_exist", detail
        else:
            assert status == 404, detail
    else:
        assert status not in (403, 404), detail
        if status == 401:
            # Only a credential in the body may be refused (login, refresh).
            assert response.json()["errors"][0]["code"] != "not_authenticated", detail


def _anonymous():
    from rest_framework.test import APIClient

    return APIClient()
