"""can_see_event (Python, on one fetched row) and _visible_to (the queryset)
are one rule: they must agree on every combination of event status, the
caller's roles and the caller's relation to the event."""

import itertools

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from accounts.selectors import user_get_for_auth
from accounts.tests.factories import UserFactory
from eventmaster.roles import Role, user_roles
from events.models import Event
from events.permissions import can_see_event
from events.selectors import _visible_to, event_for_door_along, event_from_along, event_get_for_door
from events.tests.factories import EventFactory

pytestmark = pytest.mark.django_db

ROLE_SETS = {
    "no role": [],
    "member": [Role.MEMBER],
    "organizer": [Role.MEMBER, Role.ORGANIZER],
    "checkin": [Role.MEMBER, Role.CHECKIN],
    "organizer+checkin": [Role.MEMBER, Role.ORGANIZER, Role.CHECKIN],
    "admin": [Role.MEMBER, Role.ADMIN],
}
RELATIONS = ("none", "organizes", "staffs", "organizes+staffs")


def fresh(user: User) -> User:
    # As a request sees it: roles read anew, nothing cached on the object.
    return User.objects.get(pk=user.pk)


def test_predicate_and_queryset_agree_on_every_combination():
    users = {name: UserFactory(roles=roles) for name, roles in ROLE_SETS.items()}
    users["superuser"] = UserFactory(roles=[], is_superuser=True)
    seen, mismatches = {}, []
    for (name, user), relation, status in itertools.product(users.items(), RELATIONS, Event.Status.values):
        event = EventFactory(status=status, **({"organizer": user} if "organizes" in relation else {}))
        if "staffs" in relation:
            event.staff.add(user)  # also for users without the checkin role (a revoked one)
        expected = _visible_to(fresh(user)).filter(pk=event.pk).exists()
        door_row = event_get_for_door(user=(caller := fresh(user)), pk=event.pk)
        along = event_for_door_along(event.pk)  # the door views' read with the user
        user_get_for_auth(pk=user.pk, along=along)
        along_row = event_from_along(along, caller)
        assert along_row is not None and door_row is not None
        assert along_row.door_staff_for == door_row.door_staff_for
        assert [getattr(along_row, f.attname) for f in Event._meta.concrete_fields] == [
            getattr(door_row, f.attname) for f in Event._meta.concrete_fields
        ]
        answers = {
            "door row": can_see_event(caller, door_row),
            "door row read with the user": can_see_event(caller, along_row),
            "plain row": can_see_event(fresh(user), Event.objects.get(pk=event.pk)),
        }
        for how, answer in answers.items():
            if answer != expected:
                mismatches.append((name, relation, status, how, answer, expected))
        seen[(name, relation, status)] = expected
    for status in Event.Status.values:
        event = EventFactory(status=status)
        expected = _visible_to(AnonymousUser()).filter(pk=event.pk).exists()
        if can_see_event(AnonymousUser(), event) != expected:
            mismatches.append(("anonymous", "none", status, "plain row", not expected, expected))
        seen[("anonymous", "none", status)] = expected
    assert not mismatches, mismatches
    # The rule itself, at its edges (so the test cannot pass on a constant).
    assert seen[("checkin", "staffs", "draft")] is True
    assert seen[("member", "staffs", "draft")] is False  # assigned, checkin role revoked
    assert seen[("no role", "staffs", "draft")] is False
    assert seen[("organizer", "none", "draft")] is False
    assert seen[("organizer", "organizes", "draft")] is True
    assert seen[("admin", "none", "draft")] is seen[("superuser", "none", "draft")] is True
    assert seen[("anonymous", "none", "draft")] is False
    assert all(seen[(n, r, s)] for n, r, _ in seen for s in ("published", "cancelled"))


def test_the_door_row_decides_without_another_query(django_assert_num_queries):
    user = UserFactory(roles=[Role.MEMBER, Role.CHECKIN])
    draft = EventFactory(status=Event.Status.DRAFT)
    draft.staff.add(user)
    caller = fresh(user)
    user_roles(caller)  # read with the user by authentication, once per request
    with django_assert_num_queries(1):
        event = event_get_for_door(user=caller, pk=draft.pk)
        assert can_see_event(caller, event) is True
