"""The API's permissions, from the rules (eventmaster/rules.py).

An API view declares the rule of each action in ``access`` (a viewset's
action name, or an APIView's HTTP method in lower case) and uses
``RuleAccess``: its permissions are those rules', nothing else. A caller
without a token gets 401 where the rule needs one, a caller the rule
refuses 403; rows outside a view's scope were never found (404), since the
selectors filter with the rules too.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from eventmaster.rules import SIGNED_IN, Rule


@cache
def rule_permission(rule: Rule) -> type[BasePermission]:
    """The DRF permission class of ``rule``."""

    class RulePermission(BasePermission):
        message = f"Only {rule.description} may do this."

        def has_permission(self, request: Request, view: APIView) -> bool:
            if rule.object_rule:
                # Decided on the object; a token is needed unless the rule
                # lets anonymous callers see some rows.
                return rule.anonymous or bool(request.user and request.user.is_authenticated)
            return bool(request.user and request.user.is_authenticated) and rule.allows(request.user)

        def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
            return rule.allows(request.user, obj)

    RulePermission.__name__ = RulePermission.__qualname__ = f"Rule[{rule.name}]"
    return RulePermission


# Mixin for API views: permissions from ``access``. ``scope_rule`` is the
# rule the view's rows come from (its selector filters with it: a row
# outside is a 404); an action whose rule is the scope itself cannot answer
# 403, any other object rule is checked on the row (403). (No docstring:
# drf-spectacular would show it as every view's description.)
class RuleAccess(APIView):
    access: dict[str, Rule] = {}
    scope_rule: Rule | None = None

    def access_rule(self) -> Rule | None:
        """The rule of this request's action; None for a method the view
        does not serve (DRF answers 405)."""
        method = (self.request.method or "get").lower()
        key = getattr(self, "action", None) or ("get" if method == "head" else method)
        if key in self.access:
            return self.access[key]
        if key == "options":
            # The metadata of an endpoint is no secret of its rows.
            return SIGNED_IN
        served = getattr(self, "action_map", None) or {
            m: m for m in self.http_method_names if hasattr(self, m)
        }
        if key not in served and key not in served.values():
            return None
        raise ImproperlyConfigured(f"{type(self).__name__} declares no rule for {key!r}")

    def get_permissions(self) -> list[BasePermission]:
        rule = self.access_rule()
        if rule is None:
            return []
        if rule.anonymous:
            # Anyone; for rows, the view's queryset is the rule's scope
            # (a row outside it is a 404, never a 403).
            return [AllowAny()]
        if rule is SIGNED_IN or rule is self.scope_rule:
            return [IsAuthenticated()]
        return [IsAuthenticated(), rule_permission(rule)()]
