"""Effective permissions of a user, cached; the hooks that invalidate them; the rows a
permission reaches (`queryset_for_flag`).

A user's permissions are `{feature_code: {flag: scope}}` (flags `create`, `retrieve`,
`update`, `delete`; scope `own` or `all`), merged over their live roles: a flag is granted
when any role grants it, and its scope is `all` when any granting role says `all`.
They are cached per user with the generation number they were read in (entry and generation
read in one round trip), and kept for the rest of the request in the request memo, so a
request asking several times (the permission check, the scope, `is_editor`) reads them once.
A change to a user's roles deletes that user's entry; a change to a role, a feature or a
role's permissions bumps the generation, so every entry goes stale at once without scanning
keys; both also clear the request's memo. A warm request costs no query.
"""

import uuid
from collections.abc import Callable
from typing import Any, Protocol

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from rest_framework.exceptions import PermissionDenied

from apps.core.models.rbac import PermissionScope, RolePermission, UserRole
from apps.core.platform.memo import request_memo, request_memo_forget

FLAGS = ("create", "retrieve", "update", "delete")
GENERATION_KEY = "rbac:generation"

Permissions = dict[str, dict[str, str]]
UserId = uuid.UUID | str  # a user's primary key (UUID), or its text form


class Grantee(Protocol):
    """What RBAC reads of a user: their key and whether they are a superuser."""

    @property
    def pk(self) -> Any:
        """The user's primary key."""

    @property
    def is_superuser(self) -> bool:
        """Superusers pass every check."""


MISSING_OWNER_MESSAGE = (
    "{view} serves scope 'own' but declares no owner_field; add e.g. owner_field = 'user'."
)


def _generation() -> int:
    """The current generation (created on first use)."""
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, 1, timeout=None)
        value = cache.get(GENERATION_KEY)
    return int(value or 0)  # 0 while the cache is down: computed from the database


def _user_key(user_id: UserId) -> str:
    """Cache key of one user's permissions (stored with the generation they were read in)."""
    return f"rbac:user-perms:{user_id}"


def _memo_key(user_id: UserId) -> tuple[str, str]:
    """The request memo's key of one user's permissions."""
    return ("rbac", str(user_id))


def user_permissions_compute(*, user_id: UserId) -> Permissions:
    """Read a user's merged permissions from the database (one query)."""
    role_ids = UserRole.objects.filter(user_id=user_id, role__is_deleted=False).values("role_id")
    rows = RolePermission.objects.filter(
        role_id__in=role_ids, feature__is_deleted=False
    ).values_list(
        "feature__code", "can_create", "can_retrieve", "can_update", "can_delete", "scope"
    )
    merged: Permissions = {}
    for code, *granted, scope in rows:
        flags = merged.setdefault(code, {})
        for flag, allowed in zip(FLAGS, granted, strict=True):
            if allowed and flags.get(flag) != PermissionScope.ALL:
                flags[flag] = scope
    return merged


def user_permissions(*, user: Grantee) -> Permissions:
    """A user's permissions: once per request (the request memo), from the cache when warm
    (the entry and the current generation read in one round trip), else from the database."""
    memo = request_memo()
    if memo is not None and _memo_key(user.pk) in memo:
        found: Permissions = memo[_memo_key(user.pk)]
        return found
    key = _user_key(user.pk)
    read = cache.get_many([GENERATION_KEY, key])
    generation = read.get(GENERATION_KEY)
    entry = read.get(key)
    if generation is not None and isinstance(entry, dict) and entry.get("generation") == generation:
        permissions: Permissions = entry["permissions"]
    else:
        generation = generation if generation is not None else _generation()
        permissions = user_permissions_compute(user_id=user.pk)
        stored = {"generation": generation, "permissions": permissions}
        cache.set(key, stored, timeout=settings.RBAC_CACHE_SECONDS)
    if memo is not None:
        memo[_memo_key(user.pk)] = permissions
    return permissions


def user_permission_scope(*, user: Grantee, feature: str, flag: str) -> str | None:
    """`all`, `own`, or None when the user may not use `flag` on `feature`."""
    return user_permissions(user=user).get(feature, {}).get(flag)


def _now_and_after_commit(invalidate: Callable[[], Any]) -> None:
    """Invalidate at once and again when the transaction commits.

    A request reading between the first invalidation and the commit still sees the old rows
    and may cache them; the second invalidation, after commit, removes that entry.
    """
    invalidate()
    transaction.on_commit(invalidate)


def rbac_invalidate_user(user_id: UserId) -> None:
    """Forget one user's cached permissions (their roles changed)."""
    request_memo_forget(lambda key: key == _memo_key(user_id))
    _now_and_after_commit(lambda: cache.delete(_user_key(user_id)))


def _bump_generation() -> None:
    """Move to a new generation: every cached entry is stale."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, _generation() + 1, timeout=None)


def rbac_invalidate_all() -> None:
    """Make every cached permission stale (a role, feature or role permission changed)."""
    request_memo_forget(lambda key: isinstance(key, tuple) and key[:1] == ("rbac",))
    _now_and_after_commit(_bump_generation)


def queryset_for_flag(
    queryset: models.QuerySet[Any],
    *,
    user: Grantee,
    feature: str,
    flag: str,
    owner_field: str | None,
    who: str,
) -> models.QuerySet[Any]:
    """The rows `user` may `flag` on `feature`: all of them, or their own by `owner_field`.

    403 without the flag; a scope `own` with no `owner_field` is a configuration error in
    `who` (the view or upload target), raised with the fix in the message.
    """
    if user.is_superuser:
        return queryset
    scope = user_permission_scope(user=user, feature=feature, flag=flag)
    if scope is None:
        raise PermissionDenied
    if scope == "all":
        return queryset
    if owner_field is None:
        raise ImproperlyConfigured(MISSING_OWNER_MESSAGE.format(view=who))
    return queryset.filter(**{owner_field: user})
