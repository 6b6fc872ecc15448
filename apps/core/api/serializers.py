"""Serializers of the core endpoints: RBAC, audit log, trash."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.http.serializers import (
    AppReadOnlyModelSerializer,
    AppSerializer,
    AppWriteOnlyModelSerializer,
)
from apps.core.models.audit import AuditLog
from apps.core.models.rbac import Feature, PermissionScope, Role, RolePermission
from apps.core.rbac.services import permission_rows_errors


class FeatureSerializer(AppReadOnlyModelSerializer):
    """An API module whose actions roles may be granted."""

    class Meta:
        model = Feature
        fields = ("id", "code", "name", "description")


class RolePermissionSerializer(AppReadOnlyModelSerializer):
    """What a role may do on one feature."""

    feature = serializers.CharField(source="feature.code")

    class Meta:
        model = RolePermission
        fields = ("feature", "can_create", "can_retrieve", "can_update", "can_delete", "scope")


class RoleSerializer(AppReadOnlyModelSerializer):
    """A role with its permissions."""

    permissions = RolePermissionSerializer(many=True)

    class Meta:
        model = Role
        fields = ("id", "code", "name", "description", "permissions", "created_at", "updated_at")


class RolePermissionInputSerializer(AppSerializer):
    """One permission of a role in a write: the feature by code, the flags and the scope."""

    feature = serializers.SlugRelatedField(slug_field="code", queryset=Feature.objects.all())
    can_create = serializers.BooleanField(default=False)
    can_retrieve = serializers.BooleanField(default=False)
    can_update = serializers.BooleanField(default=False)
    can_delete = serializers.BooleanField(default=False)
    scope = serializers.ChoiceField(choices=PermissionScope.choices, default=PermissionScope.OWN)


@extend_schema_field(RolePermissionInputSerializer(many=True))
class RolePermissionListField(serializers.Field):
    """A role's whole permission list. It replaces the role's permissions, so every item is
    complete even in a PATCH: each is validated on its own, never as part of a partial
    update (which would skip `feature` and the defaults)."""

    default_error_messages = {"not_a_list": "Send a list of permissions."}

    def to_internal_value(self, data: Any) -> list[dict[str, Any]]:
        """The validated items; errors by item index."""
        if not isinstance(data, list):
            self.fail("not_a_list")
        items, errors = [], {}
        for index, item in enumerate(data):
            serializer = RolePermissionInputSerializer(data=item)
            if serializer.is_valid():
                items.append(dict(serializer.validated_data))
            else:
                errors[str(index)] = serializer.errors
        if errors:
            raise serializers.ValidationError(errors)
        return items

    def to_representation(self, value: Any) -> Any:
        """Never read: the write serializer answers with RoleSerializer."""
        return value


class RoleWriteSerializer(AppWriteOnlyModelSerializer):
    """Create or change a role; `permissions` replaces the role's whole permission list."""

    permissions = RolePermissionListField(required=False)

    def validate_permissions(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each feature at most once, scope `own` only where it applies (checked here too, so
        bulk errors carry the item index)."""
        errors = permission_rows_errors(value)
        if errors:
            raise serializers.ValidationError(errors)
        return value

    class Meta:
        model = Role
        fields = ("code", "name", "description", "permissions")


class UserRolesSerializer(AppSerializer):
    """The codes of the roles a user holds."""

    roles = serializers.ListField(child=serializers.SlugField(max_length=50), allow_empty=True)


class AuditLogSerializer(AppReadOnlyModelSerializer):
    """One audit row."""

    class Meta:
        model = AuditLog
        fields = (
            "id",
            "actor",
            "actor_repr",
            "action",
            "model",
            "object_id",
            "object_repr",
            "changes",
            "trace_id",
            "ip",
            "user_agent",
            "created_at",
        )


class TrashItemSerializer(AppSerializer):
    """A soft-deleted row of any model."""

    id = serializers.CharField(source="pk")
    model = serializers.SerializerMethodField()
    repr = serializers.CharField(source="__str__")
    deleted_at = serializers.DateTimeField()
    deleted_by = serializers.CharField(source="deleted_by_id", allow_null=True)
    deleted_by_repr = serializers.SerializerMethodField()

    def get_model(self, instance: Any) -> str:
        """`app_label.model`."""
        return str(instance._meta.label_lower)

    def get_deleted_by_repr(self, instance: Any) -> str | None:
        """Who deleted it (their email), if known."""
        return str(instance.deleted_by) if instance.deleted_by_id else None
