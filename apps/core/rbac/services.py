"""RBAC services: roles with their permissions, a user's roles, features synced from views."""

from collections.abc import Iterable
from functools import lru_cache
from typing import Any, cast

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.urls import URLResolver, get_resolver
from rest_framework.exceptions import ValidationError

from apps.core.models.audit import AuditAction
from apps.core.models.base import SoftDeleteQuerySet
from apps.core.models.rbac import Feature, PermissionScope, Role, RolePermission, UserRole
from apps.core.platform.routes import routed_view_classes
from apps.core.platform.ws.notify import notify_user_on_commit
from apps.core.rbac.notifications import ROLES_CHANGED
from apps.core.rbac.permissions import rbac_invalidate_all, rbac_invalidate_user
from apps.core.records.changes import Change, model_changed_send, snapshot
from apps.core.records.services import object_create, object_soft_delete, object_update

UNKNOWN_ROLES_MESSAGE = "Unknown role(s): {codes}."
OWN_SCOPE_UNSUPPORTED_MESSAGE = (
    "Scope 'own' cannot apply to {feature}: its rows have no owner. Grant scope 'all'."
)
DUPLICATE_FEATURE_MESSAGE = "Feature {code} is listed more than once."
PERMISSION_FIELDS = ("can_create", "can_retrieve", "can_update", "can_delete", "scope")


def duplicate_feature_errors(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """`{index: {"feature": [...]}}` for each permission naming a feature already listed."""
    seen: set[str] = set()
    errors: dict[str, Any] = {}
    for index, row in enumerate(rows):
        code = row["feature"].code
        if code in seen:
            errors[str(index)] = {"feature": [DUPLICATE_FEATURE_MESSAGE.format(code=code)]}
        seen.add(code)
    return errors


def own_scope_errors(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """`{index: {"scope": [...]}}` for each grant of scope `own` on a feature whose views
    cannot narrow rows to an owner (granting it would break every request of its holders)."""
    unsupported = features_without_own_scope()
    errors: dict[str, Any] = {}
    for index, row in enumerate(rows):
        code = row["feature"].code
        if row.get("scope", PermissionScope.OWN) == PermissionScope.OWN and code in unsupported:
            errors[str(index)] = {"scope": [OWN_SCOPE_UNSUPPORTED_MESSAGE.format(feature=code)]}
    return errors


def permission_rows_errors(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Every problem of a role's permission list, by item index."""
    listed = list(rows)
    errors = own_scope_errors(listed)
    for index, problem in duplicate_feature_errors(listed).items():
        errors.setdefault(index, {}).update(problem)
    return errors


def _set_permissions(role: Role, permissions: Iterable[dict[str, Any]]) -> None:
    """Replace the role's permissions with `permissions` (each feature at most once, scope
    `own` only where it applies)."""
    rows = list(permissions)
    errors = permission_rows_errors(rows)
    if errors:
        raise ValidationError({"permissions": errors})
    # Join rows are replaced for good; the role's audit row records the permission set before
    # and after (Role.audit_related).
    cast(SoftDeleteQuerySet, RolePermission.all_objects.filter(role=role)).hard_delete()
    RolePermission.objects.bulk_create(
        [
            RolePermission(
                role=role,
                feature=row["feature"],
                **{f: row[f] for f in PERMISSION_FIELDS if f in row},
            )
            for row in rows
        ]
    )


def role_create(
    *, code: str, name: str, description: str = "", permissions: Iterable[dict[str, Any]] = ()
) -> Role:
    """A new role and its permissions, audited."""
    with transaction.atomic():
        # Saved and reported by hand rather than by object_create: the create's audit row must
        # hold the permissions too, and they can only be written once the role exists.
        role = Role(code=code, name=name, description=description)
        role.save()
        _set_permissions(role, permissions)
        model_changed_send(model=Role, action=AuditAction.CREATE, changes=[Change(role)])
        rbac_invalidate_all()
    return role


def role_update(*, role: Role, data: dict[str, Any]) -> Role:
    """Change a role's fields and, when given, replace its permissions; audited."""
    with transaction.atomic():
        permissions = data.pop("permissions", None)
        fields: dict[str, Any] = {f: data[f] for f in ("code", "name", "description") if f in data}
        before = snapshot(role)  # with its permissions: one audit row for both changes
        if permissions is not None:
            _set_permissions(role, permissions)
        object_update(instance=role, data=fields, before=before)
        rbac_invalidate_all()
    return role


def role_features_grant(
    *, role: Role, prefix: str = "", write: bool, scope: str = PermissionScope.ALL
) -> int:
    """Give `role` every live feature whose code starts with `prefix` it holds no grant on yet:
    read, or read and write (create, update, delete), over `scope` (`all` by default, `own`
    for a customer's own rows). Returns how many it added."""
    granted = RolePermission.objects.filter(role=role).values_list("feature_id", flat=True)
    created = RolePermission.objects.bulk_create(
        [
            RolePermission(
                role=role,
                feature=feature,
                can_retrieve=True,
                can_create=write,
                can_update=write,
                can_delete=write,
                scope=scope,
            )
            for feature in Feature.objects.filter(code__startswith=prefix).exclude(
                pk__in=set(granted)
            )
        ]
    )
    if created:
        rbac_invalidate_all()
    return len(created)


def user_roles_set(*, user: AbstractBaseUser, role_codes: Iterable[str]) -> list[str]:
    """Give the user exactly these roles (others are soft-deleted); audited per change."""
    wanted = set(role_codes)
    roles = {role.code: role for role in Role.objects.filter(code__in=wanted)}
    unknown = sorted(wanted - roles.keys())
    if unknown:
        raise ValidationError({"roles": [UNKNOWN_ROLES_MESSAGE.format(codes=", ".join(unknown))]})
    with transaction.atomic():
        current = {
            ur.role.code: ur for ur in UserRole.objects.filter(user=user).select_related("role")
        }
        for code, user_role in current.items():
            if code not in wanted:
                object_soft_delete(instance=user_role, actor=None)
        for code in sorted(wanted - current.keys()):
            object_create(model=UserRole, data={"user": user, "role": roles[code]})
        rbac_invalidate_user(user.pk)
        if set(current) != wanted:
            notify_user_on_commit(user.pk, ROLES_CHANGED, {"roles": sorted(wanted)})
    return sorted(wanted)


def declared_features(patterns: Iterable[Any] | None = None) -> dict[str, str]:
    """`{feature code: name}` of every view in the URLconf that declares a `feature`."""
    found: dict[str, str] = {}
    for view in routed_view_classes(patterns):
        code = getattr(view, "feature", None)
        if code:
            found[code] = code.replace(".", " ").replace("_", " ").title()
    return found


def features_without_own_scope() -> frozenset[str]:
    """Features served by a view that cannot narrow rows to their owner (walked once per
    URLconf). Views without row scoping (plain endpoints) do not count."""
    return _features_without_own_scope(get_resolver())


@lru_cache(maxsize=4)
def _features_without_own_scope(resolver: URLResolver) -> frozenset[str]:
    """The walk behind features_without_own_scope, cached per resolver."""
    return frozenset(_without_own_in(resolver.url_patterns))


def _without_own_in(patterns: Iterable[Any]) -> set[str]:
    """Feature codes below `patterns` served by a view whose `serves_scope_own()` is false."""
    found: set[str] = set()
    for view in routed_view_classes(patterns):
        code = getattr(view, "feature", None)
        serves_own = getattr(view, "serves_scope_own", None)
        if code and serves_own is not None and not serves_own():
            found.add(code)
    return found


def model_features() -> dict[str, str]:
    """`{app_label.model: feature}` for every viewset that declares a feature and a queryset,
    leaving out models any of whose views narrow rows beyond scope (`trash_by_scope = False`):
    what the trash may open to a feature's holders (walked once per URLconf: it does not
    change while the process runs)."""
    return _model_features(get_resolver())


@lru_cache(maxsize=4)
def _model_features(resolver: URLResolver) -> dict[str, str]:
    """The walk behind model_features, cached per resolver."""
    found: dict[str, str] = {}
    narrowed: set[str] = set()
    _model_features_in(resolver.url_patterns, found, narrowed)
    return {label: code for label, code in found.items() if label not in narrowed}


def _model_features_in(patterns: Iterable[Any], found: dict[str, str], narrowed: set[str]) -> None:
    """Fill `found` with `{model: feature}` below `patterns`, and `narrowed` with the models
    a view narrows beyond scope."""
    for view in routed_view_classes(patterns):
        queryset = getattr(view, "queryset", None)
        code = getattr(view, "feature", None)
        if code and queryset is not None:
            label = queryset.model._meta.label_lower
            found.setdefault(label, code)
            if not getattr(view, "trash_by_scope", True):
                narrowed.add(label)


def features_sync() -> dict[str, list[str]]:
    """Create features that views declare and soft-delete those no view declares any more."""
    declared = declared_features()
    with transaction.atomic():
        live = {feature.code: feature for feature in Feature.objects.all()}
        created = sorted(code for code in declared if code not in live)
        # A feature declared again gets its retired row back, with the grants that point at it.
        retired_rows = {
            feature.code: feature
            for feature in Feature.all_objects.filter(code__in=created, is_deleted=True).order_by(
                "deleted_at"
            )
        }
        for code in created:
            if code in retired_rows:
                retired_rows[code].restore()
        new_codes = [code for code in created if code not in retired_rows]
        Feature.objects.bulk_create([Feature(code=code, name=declared[code]) for code in new_codes])
        retired = sorted(code for code in live if code not in declared)
        for code in retired:
            live[code].soft_delete()
        if created or retired:
            rbac_invalidate_all()
    return {"created": created, "retired": retired}
