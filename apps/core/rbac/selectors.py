"""RBAC selectors: features, roles with their permissions, a user's role codes."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models

from apps.core.models.rbac import Feature, Role, RolePermission, UserRole


def feature_list() -> models.QuerySet[Feature]:
    """Live features, by code."""
    return Feature.objects.order_by("code")


def role_list() -> models.QuerySet[Role]:
    """Live roles with their live permissions and features (three queries for any page)."""
    return Role.objects.prefetch_related(
        models.Prefetch(
            "permissions",
            queryset=RolePermission.objects.select_related("feature").order_by("feature__code"),
        )
    ).order_by("code")


def user_role_codes(*, user: AbstractBaseUser) -> list[str]:
    """Codes of the user's live roles, sorted."""
    return sorted(
        UserRole.objects.filter(user=user, role__is_deleted=False).values_list(
            "role__code", flat=True
        )
    )
