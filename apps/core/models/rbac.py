"""Role-based access per API module: Feature, Role, RolePermission, UserRole."""

from typing import Any, ClassVar

from django.conf import settings
from django.db import models

from apps.core.models.base import BaseModel

LIVE = models.Q(is_deleted=False)


class PermissionScope(models.TextChoices):
    """Which rows a permission reaches: the caller's own (by the view's owner_field) or all."""

    OWN = "own", "Own"
    ALL = "all", "All"


class Feature(BaseModel):
    """One API module (`catalog.products`), synced from the views that declare it."""

    code = models.CharField(max_length=100)
    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)

    class Meta(BaseModel.Meta):
        ordering: ClassVar[list[str]] = ["code"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["code"], condition=LIVE, name="core_feature_code_live"),
        ]

    def __str__(self) -> str:
        """The feature code."""
        return self.code


class Role(BaseModel):
    """A named set of feature permissions (admin, manager, customer, ...)."""

    code = models.SlugField(max_length=50)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)

    class Meta(BaseModel.Meta):
        ordering: ClassVar[list[str]] = ["code"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["code"], condition=LIVE, name="core_role_code_live"),
        ]

    def __str__(self) -> str:
        """The role code."""
        return self.code

    def audit_related(self) -> dict[str, Any]:
        """What the audit log records beside the columns: the role's permission set, so a
        grant or removal shows as `{"permissions": [before, after]}`."""
        rows = RolePermission.objects.filter(role=self).select_related("feature")
        return {"permissions": sorted(row.audit_line() for row in rows)}


class RolePermission(BaseModel):
    """What a role may do on one feature, and over which rows."""

    FLAGS: ClassVar[tuple[str, ...]] = ("create", "retrieve", "update", "delete")

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="permissions")
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="permissions")
    can_create = models.BooleanField(default=False)
    can_retrieve = models.BooleanField(default=False)
    can_update = models.BooleanField(default=False)
    can_delete = models.BooleanField(default=False)
    scope = models.CharField(
        max_length=3, choices=PermissionScope.choices, default=PermissionScope.OWN
    )

    class Meta(BaseModel.Meta):
        ordering: ClassVar[list[str]] = ["role__code", "feature__code"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["role", "feature"], condition=LIVE, name="core_rolepermission_live"
            ),
            models.CheckConstraint(
                condition=models.Q(scope__in=PermissionScope.values),
                name="core_rolepermission_scope_valid",
            ),
        ]

    def __str__(self) -> str:
        """`role → feature`."""
        return f"{self.role_id} → {self.feature_id}"

    def audit_line(self) -> str:
        """`catalog.products: create,retrieve (all)`: one grant as the role's audit shows it."""
        granted = ",".join(flag for flag in self.FLAGS if getattr(self, f"can_{flag}"))
        return f"{self.feature.code}: {granted or '-'} ({self.scope})"


class UserRole(BaseModel):
    """A role given to a user."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="user_roles"
    )
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="user_roles")

    class Meta(BaseModel.Meta):
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["user", "role"], condition=LIVE, name="core_userrole_live"
            ),
        ]

    def __str__(self) -> str:
        """`user → role`."""
        return f"{self.user_id} → {self.role_id}"
