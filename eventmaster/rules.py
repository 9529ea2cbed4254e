"""Who may do what: each action's rule, declared once.

A ``Rule`` answers both questions the code asks about an action:

- *which rows* may this user act on: ``rule.filter(queryset, user)``, used by
  the selectors, so a row outside the rule is a 404 (it does not exist for
  the caller) and the admin's lists show only the caller's rows;
- *may* this user act on this row: ``rule.allows(user, obj)``, used by the
  API's permission classes (``eventmaster.api.permissions.RulePermission``)
  and the admin, where the row is already loaded (the door scan decides on
  the row it fetched, without another query).

The two forms of one rule are written side by side in the app that owns the
model (``events/rules.py`` ...), and a test holds them to the same answer
for every kind of user and row. A rule without rows (``object_rule`` False)
is about the caller alone: signed in, or holding a role.

Every API route declares the rule of each of its actions (``access`` on the
view); a test built from the URLconf fails for a route that declares none,
and checks every route's answers for every kind of caller against it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model, Q, QuerySet

# A scope: the Q a user's rows satisfy, reached through ``prefix`` (e.g.
# "event__" for a registration's event), or None for every row.
Scope = Callable[[Any, str], Q | None]
Check = Callable[[Any, Any], bool]


def _no_rows(user: Any, prefix: str) -> Q:
    return Q(pk__in=[])


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    check: Check = field(repr=False)
    scope: Scope = field(default=_no_rows, repr=False)
    object_rule: bool = True
    # For caller-only rules: whether an anonymous caller passes.
    anonymous: bool = False

    def allows(self, user: Any, obj: Any = None) -> bool:
        if not self.object_rule:
            return self.check(user, None)
        return self.check(user, obj)

    def q(self, user: Any, prefix: str = "") -> Q | None:
        return self.scope(user, prefix)

    def filter(self, queryset: QuerySet[Any], user: Any, prefix: str = "") -> QuerySet[Any]:
        condition = self.q(user, prefix)
        return queryset if condition is None else queryset.filter(condition)


def caller_rule(name: str, description: str, check: Check, *, anonymous: bool = False) -> Rule:
    """A rule about the caller alone (signed in, a role), not about a row."""
    return Rule(name, description, check=check, object_rule=False, anonymous=anonymous)


ANYONE = caller_rule("anyone", "anyone, no token needed", lambda user, obj: True, anonymous=True)
SIGNED_IN = caller_rule("signed_in", "any signed-in user", lambda user, obj: bool(user.is_authenticated))


def row_exists(rule: Rule, model: type[Model], user: Any, obj: Any) -> bool:
    """``rule``'s row form, asked of the database (for the tests that hold
    ``allows`` to ``filter``)."""
    return rule.filter(model._default_manager.all(), user).filter(pk=obj.pk).exists()
