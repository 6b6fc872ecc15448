"""The abstract base every model of every app inherits: UUID key, timestamps, soft delete."""

import uuid
from typing import Any, ClassVar, TypeVar

from django.conf import settings
from django.db import models
from django.dispatch import Signal
from django.utils import timezone

_M = TypeVar("_M", bound=models.Model)

# Sent by SoftDeleteQuerySet.delete() after its bulk UPDATE (no per-row signals are sent).
rows_soft_deleted = Signal()


class SoftDeleteQuerySet(models.QuerySet[Any]):
    """A queryset whose `delete()` soft-deletes; `hard_delete()` removes rows for real."""

    def delete(self) -> tuple[int, dict[str, int]]:
        """Mark every row deleted in one UPDATE; returns Django's `(count, {label: count})`.

        Per-row delete signals are not sent (that is the point of one UPDATE); receivers
        that must know listen to `rows_soft_deleted`, sent once for the model.
        """
        count = self.update(is_deleted=True, deleted_at=timezone.now())
        if count:
            rows_soft_deleted.send(sender=self.model, count=count)
        return count, {self.model._meta.label: count}

    def hard_delete(self) -> tuple[int, dict[str, int]]:
        """Delete the rows from the database (cascades as the foreign keys declare)."""
        return super().delete()


class AllObjectsManager(models.Manager[_M]):
    """Sees every row, deleted or not (`Model.all_objects`); querysets soft-delete."""

    def get_queryset(self) -> SoftDeleteQuerySet:
        """Every row, as a SoftDeleteQuerySet."""
        return SoftDeleteQuerySet(self.model, using=self._db)


class SoftDeleteManager(AllObjectsManager[_M]):
    """Hides soft-deleted rows (`Model.objects`, the default manager)."""

    def get_queryset(self) -> SoftDeleteQuerySet:
        """Only rows that are not soft-deleted."""
        return super().get_queryset().filter(is_deleted=False)


class BaseModel(models.Model):
    """UUID primary key, creation/update times, and soft delete with who deleted and when.

    `objects` hides soft-deleted rows (and, being the default manager, so do reverse and
    many-to-many related managers and the admin); `all_objects` sees every row. A model whose
    bulk writes must fire per-row signals sets `bulk_per_row_signals = True`: the core bulk
    path then saves its rows one by one inside the same transaction.
    """

    bulk_per_row_signals: ClassVar[bool] = False

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    is_deleted = models.BooleanField(default=False, editable=False, db_index=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects: ClassVar[SoftDeleteManager[Any]] = SoftDeleteManager()
    all_objects: ClassVar[AllObjectsManager[Any]] = AllObjectsManager()

    class Meta:
        abstract = True
        ordering: ClassVar[list[str]] = ["-created_at"]

    def delete(self, using: Any = None, keep_parents: bool = False) -> tuple[int, dict[str, int]]:
        """Soft delete, as `QuerySet.delete()` does: one UPDATE, `rows_soft_deleted`, no audit
        row (`object_soft_delete` records one, with `deleted_by`). A row already in the trash
        counts 0; `keep_parents` has no meaning without multi-table inheritance. Only
        `apps.core.records.services.object_purge` removes a row from the database.
        """
        manager = type(self).all_objects.db_manager(using) if using else type(self).all_objects
        deleted: tuple[int, dict[str, int]] = manager.filter(pk=self.pk, is_deleted=False).delete()
        if deleted[0]:
            self.refresh_from_db(using=using, fields=["is_deleted", "deleted_at"])
        return deleted

    def soft_delete(self, *, by: Any = None) -> None:
        """Mark this row deleted (it disappears from `objects`)."""
        self.is_deleted = True
        self.deleted_at = timezone.now()
        self.deleted_by = by
        self.save(update_fields=["is_deleted", "deleted_at", "deleted_by", "updated_at"])

    def restore(self) -> None:
        """Bring a soft-deleted row back."""
        self.is_deleted = False
        self.deleted_at = None
        self.deleted_by = None
        self.save(update_fields=["is_deleted", "deleted_at", "deleted_by", "updated_at"])


class VersionedModel(BaseModel):
    """A BaseModel with a `version` for optimistic locking (see records.services.object_update).

    Every successful update increments it in the same conditional UPDATE that checks it.
    """

    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta(BaseModel.Meta):
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Every save of an existing row increments `version` in the same UPDATE.

        Writes outside the API (admin, services, tasks) thus invalidate versions clients
        hold, so a client sending an old version gets 409 instead of overwriting them.
        """
        if self._state.adding:
            super().save(*args, **kwargs)
            return
        self.version = models.F("version") + 1
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "version"}
        super().save(*args, **kwargs)
        self.refresh_from_db(fields=["version"])
