"""Models of the core layer: the abstract bases, RBAC and the audit log."""

from apps.core.models.audit import AuditAction, AuditLog
from apps.core.models.base import (
    AllObjectsManager,
    BaseModel,
    SoftDeleteManager,
    SoftDeleteQuerySet,
    VersionedModel,
)
from apps.core.models.idempotency import IdempotencyRecord
from apps.core.models.outbox import OutboxMessage
from apps.core.models.rbac import Feature, PermissionScope, Role, RolePermission, UserRole
from apps.core.models.tokens import RevokedAccessToken
from apps.core.models.uploads import PendingUpload

__all__ = [
    "AllObjectsManager",
    "AuditAction",
    "AuditLog",
    "BaseModel",
    "Feature",
    "IdempotencyRecord",
    "OutboxMessage",
    "PendingUpload",
    "PermissionScope",
    "RevokedAccessToken",
    "Role",
    "RolePermission",
    "SoftDeleteManager",
    "SoftDeleteQuerySet",
    "UserRole",
    "VersionedModel",
]
