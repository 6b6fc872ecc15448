"""Core services: the writes every model shares, audited and cache-invalidating.

Create, update (optimistically locked for `VersionedModel`), their bulk forms, soft delete,
restore, purge and file attach. Each is typed, keyword-only and atomic, and reports what it
changed through `model_changed` (apps.core.records.changes). Write serializers, the admin and
feature services all write through these; none of them receives a request.
"""

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.files import File
from django.db import IntegrityError, models, transaction
from django.db.models import F, ProtectedError
from django.utils import timezone

from apps.core.exceptions import PURGE_PROTECTED_MESSAGE, Conflict, VersionConflict
from apps.core.models.audit import AuditAction
from apps.core.models.base import BaseModel, VersionedModel
from apps.core.records.changes import Change, Snapshot, model_changed_send, snapshot

M = TypeVar("M", bound=models.Model)
Actor = AbstractBaseUser | AnonymousUser | None

RESTORE_CONFLICT_MESSAGE = (
    "Cannot restore: a live {model} now holds the same unique value. "
    "Rename or delete that one first."
)


def _split_many_to_many(
    model: type[models.Model], data: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`(column values, many-to-many values)` of a write's data (`version` left out)."""
    names = {field.name for field in model._meta.many_to_many}
    columns = {k: v for k, v in data.items() if k not in names and k != "version"}
    return columns, {k: v for k, v in data.items() if k in names}


def _set_many_to_many(instance: models.Model, values: Mapping[str, Any]) -> None:
    """Replace the instance's many-to-many links, one field at a time."""
    for name, related in values.items():
        getattr(instance, name).set(related)


def object_create(*, model: type[M], data: Mapping[str, Any]) -> M:
    """A new row of `model` from `data` (many-to-many values included), recorded."""
    columns, links = _split_many_to_many(model, data)
    with transaction.atomic():
        instance = model(**columns)
        instance.save()
        if getattr(model, "bulk_per_row_signals", False):
            _set_many_to_many(instance, links)
        else:  # a new row has no links to compare with: one INSERT per field, as in bulk
            _bulk_link(model, [instance], [links])
        model_changed_send(model=model, action=AuditAction.CREATE, changes=[Change(instance)])
    return instance


def object_bulk_create(*, model: type[M], items: Sequence[Mapping[str, Any]]) -> list[M]:
    """Many new rows, all or none: one INSERT per table, whatever the number of items.

    A model with `bulk_per_row_signals = True` is saved row by row (its save signals fire).
    """
    split = [_split_many_to_many(model, item) for item in items]
    with transaction.atomic():
        objects = [model(**columns) for columns, _ in split]
        if getattr(model, "bulk_per_row_signals", False):
            for obj, (_, links) in zip(objects, split, strict=True):
                obj.save()
                _set_many_to_many(obj, links)
        else:
            model._default_manager.bulk_create(objects)
            _bulk_link(model, objects, [links for _, links in split])
        changes = [Change(obj) for obj in objects]
        model_changed_send(model=model, action=AuditAction.CREATE, changes=changes)
    return objects


def _bulk_link(
    model: type[models.Model], objects: Sequence[models.Model], links: Sequence[Mapping[str, Any]]
) -> None:
    """One INSERT per many-to-many field, through its through model."""
    for field in model._meta.many_to_many:
        through: Any = getattr(model, field.name).through
        source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
        pairs = {
            (obj.pk, related.pk)
            for obj, item in zip(objects, links, strict=True)
            for related in item.get(field.name, [])
        }  # a repeated id in one item is one link, as `.set()` would make it
        rows = [
            through(**{f"{source}_id": a, f"{target}_id": b}) for a, b in sorted(pairs, key=str)
        ]
        if rows:
            through.objects.bulk_create(rows)


def _apply(instance: M, data: Mapping[str, Any], version: int | None) -> M:
    """Write `data` to the row: one conditional UPDATE on `version` for a VersionedModel."""
    columns, links = _split_many_to_many(type(instance), data)
    if isinstance(instance, VersionedModel):
        if version is None:
            raise VersionConflict
        manager: Any = type(instance).all_objects
        updated = manager.filter(pk=instance.pk, version=version).update(
            **columns, version=F("version") + 1, updated_at=timezone.now()
        )
        if updated != 1:
            raise VersionConflict
        _set_many_to_many(instance, links)
        instance.refresh_from_db()
        return instance
    for name, value in columns.items():
        setattr(instance, name, value)
    if columns:  # only these columns: a stale copy must not write back other fields
        instance.save(update_fields=[*columns, "updated_at"])
    _set_many_to_many(instance, links)
    return instance


def object_update(
    *,
    instance: M,
    data: Mapping[str, Any],
    version: int | None = None,
    before: Snapshot | None = None,
) -> M:
    """Change the row's fields (and many-to-many links), recorded with a diff.

    A `VersionedModel` needs the `version` the client read: the check and the increment are
    one `UPDATE ... WHERE id = %s AND version = %s`, so of two writers with the same version
    exactly one wins and the other gets 409 `version_conflict` (also when `version` is None).
    `before`: the snapshot to diff against when the caller changed related rows first (a
    role's permissions), so one audit row records everything.
    """
    with transaction.atomic():
        before = snapshot(instance) if before is None else before
        _apply(instance, data, version)
        model_changed_send(
            model=type(instance), action=AuditAction.UPDATE, changes=[Change(instance, before)]
        )
    return instance


def object_bulk_update(*, updates: Sequence[tuple[M, Mapping[str, Any], int | None]]) -> list[M]:
    """Several `(instance, data, version)` updates, all or none, recorded together; a stale
    version is a 409 whose `attr` is the index of its update."""
    if not updates:
        return []
    changes: list[Change] = []
    with transaction.atomic():
        for index, (instance, data, version) in enumerate(updates):
            before = snapshot(instance)
            try:
                changes.append(Change(_apply(instance, data, version), before))
            except VersionConflict as conflict:  # name the row (`attr` is its index)
                raise VersionConflict(attr=str(index)) from conflict
        model = type(updates[0][0])
        model_changed_send(model=model, action=AuditAction.UPDATE, changes=changes)
    return [instance for instance, _, _ in updates]


def object_save(*, instance: M) -> M:
    """Save an instance whose fields were set elsewhere (an admin form), recorded.

    The diff is taken against the stored row; a new instance is recorded as created.
    """
    with transaction.atomic():
        if instance._state.adding:
            instance.save()
            change, action = Change(instance), AuditAction.CREATE
        else:
            manager: Any = getattr(type(instance), "all_objects", type(instance)._default_manager)
            before = snapshot(manager.get(pk=instance.pk))
            instance.save()
            change, action = Change(instance, before), AuditAction.UPDATE
        model_changed_send(model=type(instance), action=action, changes=[change])
    return instance


def object_soft_delete(*, instance: BaseModel, actor: Actor) -> None:
    """Mark the row deleted by `actor` (it leaves `objects` and enters the trash), recorded."""
    by = actor if actor is not None and actor.is_authenticated else None
    with transaction.atomic():
        instance.soft_delete(by=by)
        model_changed_send(
            model=type(instance), action=AuditAction.DELETE, changes=[Change(instance)]
        )


def object_restore(*, instance: BaseModel) -> None:
    """Bring a soft-deleted row back; 409 when a live row took its unique slot."""
    try:
        with transaction.atomic():
            instance.restore()
            model_changed_send(
                model=type(instance), action=AuditAction.RESTORE, changes=[Change(instance)]
            )
    except IntegrityError as exc:
        label = instance._meta.verbose_name
        raise Conflict(RESTORE_CONFLICT_MESSAGE.format(model=label)) from exc


def object_purge(*, instance: models.Model) -> None:
    """Delete the row for good (cascades as its foreign keys say); 409 when protected.

    The only way a row of a BaseModel leaves the database; also how the admin deletes rows of
    models without soft delete (a group, a blacklisted token), recorded all the same.
    """
    try:
        with transaction.atomic():
            before = snapshot(instance)
            model_changed_send(
                model=type(instance),
                action=AuditAction.PURGE,
                changes=[Change(instance, before)],
            )
            manager: Any = getattr(type(instance), "all_objects", type(instance)._default_manager)
            rows = manager.filter(pk=instance.pk)
            if isinstance(instance, BaseModel):
                rows.hard_delete()
            else:
                rows.delete()
    except ProtectedError as exc:
        raise Conflict(PURGE_PROTECTED_MESSAGE) from exc


def object_file_attach(
    *, instance: M, field_name: str, file: File | None = None, key: str | None = None
) -> M:
    """Put an uploaded file (or an already stored key) on a model's file field, recorded."""
    with transaction.atomic():
        before = snapshot(instance)
        field_file = getattr(instance, field_name)
        if file is not None:
            field_file.save(file.name, file, save=False)
        else:
            field_file.name = key
        instance.save(update_fields=[field_name, "updated_at"])
        model_changed_send(
            model=type(instance), action=AuditAction.UPDATE, changes=[Change(instance, before)]
        )
    return instance
