"""The rules (events/rules.py, registrations/rules.py): each rule's two
forms agree (the rows it scopes, the answer for one row), and the rules say
what the roles table of the API guide says."""

import pytest
from django.contrib.auth.models import AnonymousUser

from eventmaster.rules import row_exists
from eventmaster.tests.test_access_matrix import ACTORS, world  # noqa: F401 - the fixture
from events.models import Event
from events.rules import MANAGE_EVENT, RUN_DOOR, VIEW_EVENT
from registrations.models import Registration
from registrations.rules import MANAGE_REGISTRATION, VIEW_REGISTRATION

pytestmark = pytest.mark.django_db

EVENTS = ("own/published", "own/draft", "foreign/published", "foreign/draft")

# Who may, per the roles table: "own" events are the organizer's, with the
# assigned staff at their door; "foreign" events are another organizer's.
EVENT_RULES = {
    VIEW_EVENT: {
        "anonymous": {"own/published", "foreign/published"},
        "member": {"own/published", "foreign/published"},
        "organizer": {"own/published", "own/draft", "foreign/published"},
        "other_organizer": {"own/published", "foreign/published", "foreign/draft"},
        "unassigned_staff": {"own/published", "foreign/published"},
        "assigned_staff": {"own/published", "own/draft", "foreign/published"},
        "admin": set(EVENTS),
    },
    MANAGE_EVENT: {
        "organizer": {"own/published", "own/draft"},
        "other_organizer": {"foreign/published", "foreign/draft"},
        "admin": set(EVENTS),
    },
    RUN_DOOR: {
        "organizer": {"own/published", "own/draft"},
        "other_organizer": {"foreign/published", "foreign/draft"},
        "assigned_staff": {"own/published", "own/draft"},
        "admin": set(EVENTS),
    },
}
# "own" is the member's registration at the organizer's published event.
REGISTRATION_RULES = {
    VIEW_REGISTRATION: {
        "member": {"own"},
        "organizer": {"own"},
        "other_organizer": {"foreign"},
        "assigned_staff": {"own"},
        "admin": {"own", "foreign"},
    },
    MANAGE_REGISTRATION: {
        "member": {"own"},
        "organizer": {"own"},
        "other_organizer": {"foreign"},
        "admin": {"own", "foreign"},
    },
}


def _user(world, actor):  # noqa: F811 - world is the fixture
    return AnonymousUser() if actor == "anonymous" else world.users[actor]


@pytest.mark.parametrize("rule", list(EVENT_RULES), ids=lambda r: r.name)
def test_event_rules_match_the_roles_table_in_both_forms(world, rule):  # noqa: F811
    for actor in ACTORS:
        user = _user(world, actor)
        for name in EVENTS:
            event = world.events[tuple(name.split("/"))]
            want = name in EVENT_RULES[rule].get(actor, set())
            assert rule.allows(user, event) is want, (rule.name, actor, name)
            assert row_exists(rule, Event, user, event) is want, (rule.name, actor, name, "rows")


@pytest.mark.parametrize("rule", list(REGISTRATION_RULES), ids=lambda r: r.name)
def test_registration_rules_match_the_roles_table_in_both_forms(world, rule):  # noqa: F811
    for actor in ACTORS:
        user = _user(world, actor)
        for name, registration in world.registrations.items():
            want = name in REGISTRATION_RULES[rule].get(actor, set())
            assert rule.allows(user, registration) is want, (rule.name, actor, name)
            assert row_exists(rule, Registration, user, registration) is want, (
                rule.name,
                actor,
                name,
                "rows",
            )


def test_a_revoked_role_takes_the_rows_with_it(world):  # noqa: F811
    from eventmaster.roles import Role, role_group

    staff = world.users["assigned_staff"]
    draft = world.events[("own", "draft")]
    staff.groups.remove(role_group(Role.CHECKIN))
    for rule in (VIEW_EVENT, RUN_DOOR):
        assert not rule.allows(staff, draft) and not row_exists(rule, Event, staff, draft), rule.name
