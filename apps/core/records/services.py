"""Core services: the audited state changes every model shares (soft delete, restore, purge)."""

from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError

from apps.core.audit.writer import audit_delete, audit_purge, audit_restore
from apps.core.exceptions import PROTECTED_MESSAGE, Conflict

RESTORE_CONFLICT_MESSAGE = (
    "Cannot restore: a live {model} now holds the same unique value. "
    "Rename or delete that one first."
)


def object_soft_delete(*, instance: Any, actor: Any) -> None:
    """Mark the object deleted by `actor` and record it."""
    with transaction.atomic():
        instance.soft_delete(by=actor if getattr(actor, "is_authenticated", False) else None)
        audit_delete(instance)


def object_restore(*, instance: Any) -> None:
    """Bring a soft-deleted object back; 409 when a live row took its unique slot."""
    try:
        with transaction.atomic():
            instance.restore()
            audit_restore(instance)
    except IntegrityError as exc:
        label = instance._meta.verbose_name
        raise Conflict(RESTORE_CONFLICT_MESSAGE.format(model=label)) from exc


def object_purge(*, instance: models.Model) -> None:
    """Delete the row for good (cascades as its foreign keys say); 409 when protected."""
    try:
        with transaction.atomic():
            audit_purge(instance)
            type(instance).all_objects.filter(pk=instance.pk).hard_delete()  # type: ignore[attr-defined]
    except ProtectedError as exc:
        raise Conflict(PROTECTED_MESSAGE) from exc


def object_file_attach(
    *, instance: Any, field_name: str, file: Any = None, key: str | None = None
) -> Any:
    """Put an uploaded file (or an already stored key) on a model's file field, audited."""
    from apps.core.audit.writer import audit_update, snapshot

    with transaction.atomic():
        old = snapshot(instance)
        field_file = getattr(instance, field_name)
        if file is not None:
            field_file.save(file.name, file, save=False)
        else:
            field_file.name = key
        instance.save(update_fields=[field_name, "updated_at"])
        audit_update(instance, old)
    return instance
