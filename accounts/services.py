"""Every write on accounts that has a rule: sign-up, roles, passwords, tokens."""

from collections.abc import Iterable
from typing import Any, cast

from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.models import Group, update_last_login
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from eventmaster import audit, db
from eventmaster.roles import ADMIN_SITE_ROLES, ROLE_NAMES, Role, forget_user_roles, role_group

from .errors import (
    CannotDemoteSelfError,
    EmailTakenError,
    InvalidCredentialsError,
    TokenNotValidError,
    UnknownRoleError,
)
from .models import User, normalize_email


def _check_role(role: str) -> str:
    if role not in ROLE_NAMES:
        raise UnknownRoleError(f"Unknown role '{role}'; choose one of {', '.join(Role.values)}.")
    return role


def user_sync_staff(*, user: User) -> None:
    """``is_staff`` (Django admin access) follows the roles: organizers and
    admins have it, nobody else (superusers keep it)."""
    forget_user_roles(user)
    wanted = user.is_superuser or user.groups.filter(name__in=ADMIN_SITE_ROLES).exists()
    if user.is_staff != wanted:
        user.is_staff = wanted
        user.save(update_fields=["is_staff"])


@transaction.atomic
def user_create(
    *, email: str, password: str | None, full_name: str, roles: Iterable[str] = (Role.MEMBER,)
) -> User:
    """Create an account with ``roles``. Validates the password with Django's
    validators (400); a taken e-mail address raises ``EmailTakenError`` (409),
    also when a concurrent sign-up wins the race for the unique constraint."""
    email = normalize_email(email)
    user = User(email=email, full_name=full_name)
    if password is not None:
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.error_list}) from exc
    if User.objects.filter(email=email).exists():
        raise EmailTakenError()
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError as exc:
        raise EmailTakenError() from exc
    granted, _ = _set_roles(user, roles)
    # Every account is a member: only the roles beyond that are grants.
    user_roles_changed(user=user, granted=granted - {Role.MEMBER}, revoked=set())
    return user


def user_login(*, request: HttpRequest | None, email: str, password: str) -> User:
    """Check credentials. Unknown e-mail, wrong password and inactive account
    get the same ``InvalidCredentialsError`` (401), so none can be probed."""
    user = authenticate(request, email=normalize_email(email), password=password)
    if user is None:
        raise InvalidCredentialsError()
    update_last_login(User, user)  # the receiver ignores its sender (Django's login() sends the user's class)
    return user


def tokens_for(*, user: User) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def token_refresh(*, refresh: str) -> dict[str, str]:
    """Rotate a refresh token: the old one is blacklisted and a new pair is
    issued. A token that is invalid, expired, already used (rotation reuse,
    also by a concurrent request) or whose user is gone or inactive -> 401."""
    try:
        token = RefreshToken(refresh)  # type: ignore[arg-type]  # simplejwt hints Token; it takes the encoded str
    except TokenError as exc:
        raise TokenNotValidError(str(exc)) from exc
    user = User.objects.filter(pk=token.get("user_id"), is_active=True).first()
    if user is None:
        raise TokenNotValidError("No active account for this token.")
    # simplejwt hints BlacklistedToken; the method returns get_or_create()'s pair.
    _, created = cast(tuple[BlacklistedToken, bool], token.blacklist())
    if not created:
        raise TokenNotValidError("Token is blacklisted.")
    return tokens_for(user=user)


def token_revoke(*, user: User, refresh: str) -> None:
    """Log out: blacklist the caller's own refresh token (400 if it is not a
    valid refresh token of the caller)."""
    try:
        token = RefreshToken(refresh)  # type: ignore[arg-type]  # simplejwt hints Token; it takes the encoded str
    except TokenError as exc:
        raise ValidationError({"refresh": ValidationError(str(exc), code="token_not_valid")}) from exc
    if str(token.get("user_id")) != str(user.pk):
        raise ValidationError(
            {"refresh": ValidationError("This token belongs to another account.", code="token_not_valid")}
        )
    token.blacklist()


@transaction.atomic
def user_set_roles(*, user: User, roles: Iterable[str]) -> None:
    """Replace the user's role groups with ``roles`` (other groups stay)."""
    granted, revoked = _set_roles(user, roles)
    user_roles_changed(user=user, granted=granted, revoked=revoked)


def _set_roles(user: User, roles: Iterable[str]) -> tuple[set[str], set[str]]:
    """(granted, revoked)."""
    wanted = {_check_role(r) for r in roles}
    _lock_roles(user)
    current = set(user.groups.filter(name__in=ROLE_NAMES).values_list("name", flat=True))
    if to_remove := current - wanted:
        user.groups.remove(*Group.objects.filter(name__in=to_remove))
    if to_add := wanted - current:
        user.groups.add(*(role_group(name) for name in sorted(to_add)))
    forget_user_roles(user)
    return to_add, to_remove


@transaction.atomic
def user_grant_role(*, user: User, role: str) -> bool:
    """Add ``role``; False when the user already had it."""
    group = role_group(_check_role(role))
    _lock_roles(user)
    if user.groups.filter(pk=group.pk).exists():
        return False
    user.groups.add(group)
    forget_user_roles(user)
    user_roles_changed(user=user, granted={role}, revoked=set())
    return True


@transaction.atomic
def user_revoke_role(*, user: User, role: str) -> bool:
    """Remove ``role``; False when the user did not have it."""
    group = role_group(_check_role(role))
    _lock_roles(user)
    if not user.groups.filter(pk=group.pk).exists():
        return False
    user.groups.remove(group)
    forget_user_roles(user)
    user_roles_changed(user=user, granted=set(), revoked={role})
    return True


def _lock_roles(user: User) -> None:
    """Lock the user's row (PostgreSQL; SQLite has one writer): two requests
    changing the same user's roles take turns, so each reads the other's
    outcome and only a real change is recorded."""
    db.lock_row(User, user.pk)


def user_roles_changed(*, user: User, granted: Iterable[str], revoked: Iterable[str]) -> None:
    """Record ``role.granted`` / ``role.revoked`` (eventmaster.audit): the
    services call it, and the admin's user form after it saved the groups."""
    for role in sorted(granted):
        _record_user("role.granted", user, changes={"role": (None, role)})
    for role in sorted(revoked):
        _record_user("role.revoked", user, changes={"role": (role, None)})


def _record_user(type: str, user: User, **details: Any) -> None:
    audit.record(type, object_type="user", object_id=user.pk, data={"email": user.email}, **details)


def user_deactivated(*, user: User) -> None:
    """Record ``user.deactivated`` (the services, and the admin's user form)."""
    _record_user("user.deactivated", user, changes={"is_active": (True, False)})


@transaction.atomic
def user_update(
    *,
    user: User,
    by: User,
    full_name: str | None = None,
    is_active: bool | None = None,
    roles: Iterable[str] | None = None,
) -> User:
    """An admin edits an account. An admin may not take their own admin role
    away nor deactivate themselves (``CannotDemoteSelfError``, 409), so the
    platform never loses its last admin by accident."""
    if user.pk == by.pk:
        drops_admin = roles is not None and Role.ADMIN not in roles and not user.is_superuser
        if drops_admin or is_active is False:
            raise CannotDemoteSelfError()
    was_active = user.is_active
    if full_name is not None:
        user.full_name = full_name
    if is_active is not None:
        user.is_active = is_active
    user.save(update_fields=["full_name", "is_active"])
    if roles is not None:
        user_set_roles(user=user, roles=roles)
    if is_active is False:
        _blacklist_refresh_tokens(user=user)
        if was_active:
            user_deactivated(user=user)
    return user


def user_change_password(*, user: User, current_password: str, new_password: str) -> None:
    """Check the current password, validate the new one (400 either way),
    save it and sign every session out (their refresh tokens stop working)."""
    if not user.check_password(current_password):
        raise ValidationError(
            {"current_password": ValidationError("The current password is incorrect.", code="wrong_password")}
        )
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.error_list}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    _blacklist_refresh_tokens(user=user)


def _blacklist_refresh_tokens(*, user: User) -> None:
    outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
