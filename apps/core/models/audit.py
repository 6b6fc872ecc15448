"""The append-only audit log: who changed what, when, from where."""

from typing import Any, ClassVar, NoReturn

from django.conf import settings
from django.db import models

from apps.core.models.base import AllObjectsManager, BaseModel, SoftDeleteQuerySet

APPEND_ONLY_MESSAGE = "The audit log is append-only: rows cannot be changed or deleted."


class AuditAction(models.TextChoices):
    """What happened to the object."""

    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    RESTORE = "restore", "Restore"
    PURGE = "purge", "Purge"


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit row."""


class AuditLogQuerySet(SoftDeleteQuerySet):
    """Refuses bulk update and delete; only inserts and reads."""

    def update(self, **kwargs: Any) -> NoReturn:
        """Refused."""
        raise AppendOnlyError(APPEND_ONLY_MESSAGE)

    def delete(self) -> NoReturn:
        """Refused."""
        raise AppendOnlyError(APPEND_ONLY_MESSAGE)

    def hard_delete(self) -> NoReturn:
        """Refused."""
        raise AppendOnlyError(APPEND_ONLY_MESSAGE)


class AuditLogManager(AllObjectsManager["AuditLog"]):
    """Every audit row (they are never soft-deleted), as an append-only queryset."""

    def get_queryset(self) -> AuditLogQuerySet:
        """The append-only queryset."""
        return AuditLogQuerySet(self.model, using=self._db)


class AuditLog(BaseModel):
    """One change: actor, action, object, `{field: [old, new]}` (secrets redacted), context.

    Append-only: `save()` of an existing row, `delete()` and queryset update/delete raise;
    on PostgreSQL a trigger also rejects UPDATE and DELETE on the table.
    """

    # DO_NOTHING without a database constraint: purging a user must not rewrite history
    # (an UPDATE here is refused), and the row keeps who acted even after the user is gone.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="audit_logs",
    )
    actor_repr = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    model = models.CharField(max_length=100, db_index=True)
    object_id = models.CharField(max_length=64, db_index=True)
    object_repr = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    trace_id = models.CharField(max_length=128, blank=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)

    objects: ClassVar[AuditLogManager] = AuditLogManager()  # type: ignore[assignment]
    all_objects: ClassVar[AuditLogManager] = AuditLogManager()

    class Meta(BaseModel.Meta):
        ordering: ClassVar[list[str]] = ["-created_at", "-id"]
        indexes: ClassVar[list[Any]] = [
            models.Index(
                fields=["model", "object_id", "-created_at"], name="core_audit_object_idx"
            ),
            models.Index(fields=["actor", "-created_at"], name="core_audit_actor_idx"),
        ]
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=models.Q(action__in=AuditAction.values), name="core_auditlog_action_valid"
            ),
        ]

    def __str__(self) -> str:
        """`action model:id`."""
        return f"{self.action} {self.model}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert only."""
        if not self._state.adding:
            raise AppendOnlyError(APPEND_ONLY_MESSAGE)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Refused."""
        raise AppendOnlyError(APPEND_ONLY_MESSAGE)

    def soft_delete(self, *, by: Any = None) -> NoReturn:
        """Refused."""
        raise AppendOnlyError(APPEND_ONLY_MESSAGE)
