"""Writing the audit log: snapshots, diffs with secrets redacted, and the LoggingMixin.

Every create, update, soft delete, restore, purge and bulk write of the core layer calls one
of the `audit_*` functions. The actor, IP and user agent come from the request's actor context
(apps.core.platform.context), the trace id from apps.core.platform.tracing; services never
pass a request.
"""

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.fields.files import FieldFile

from apps.core.models.audit import AuditAction, AuditLog
from apps.core.platform.cache import namespace_bump
from apps.core.platform.context import get_actor_context
from apps.core.platform.tracing import get_trace_id

REDACTED = "[REDACTED]"
SECRET_FIELD = re.compile(r"pass(word)?|secret|token|api[-_]?key|signature|otp", re.IGNORECASE)
# Bookkeeping columns that change on every write and say nothing about the change.
UNAUDITED_FIELDS = frozenset({"updated_at"})

Snapshot = dict[str, Any]


def model_label(model: type[models.Model] | models.Model) -> str:
    """`app_label.modelname`, the name the audit log and the trash use for a model."""
    return model._meta.label_lower


def secret_fields(model: type[models.Model] | models.Model) -> frozenset[str]:
    """Columns never written to the log: passwords, tokens, secrets, encrypted fields."""
    return frozenset(
        field.attname
        for field in model._meta.concrete_fields
        if SECRET_FIELD.search(field.name) or getattr(field, "encrypted", False)
    )


def _json_safe(value: Any) -> Any:
    """A JSON-serialisable copy (Decimal, UUID, datetime become strings)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def snapshot(instance: models.Model) -> Snapshot:
    """The audited field values of an instance, JSON-safe.

    Kept in memory only to compute a diff: secret values are compared, never stored.
    """
    return _json_safe(
        {
            field.attname: _plain(field.value_from_object(instance))
            for field in instance._meta.concrete_fields
            if field.name not in UNAUDITED_FIELDS
        }
    )


def _plain(value: Any) -> Any:
    """A stored file is recorded by its name."""
    return (value.name or None) if isinstance(value, FieldFile) else value


def _public(key: str, value: Any, secrets: frozenset[str]) -> Any:
    """The value as the log may show it."""
    return REDACTED if key in secrets else value


def diff(
    old: Snapshot, new: Snapshot, secrets: frozenset[str] = frozenset()
) -> dict[str, list[Any]]:
    """`{field: [old, new]}` for changed fields; a changed secret shows as redacted."""
    return {
        key: [_public(key, old.get(key), secrets), _public(key, new.get(key), secrets)]
        for key in sorted(new.keys() | old.keys())
        if old.get(key) != new.get(key)
    }


def _created(instance: models.Model) -> dict[str, list[Any]]:
    """Changes of a new object: every audited field as `[null, value]`."""
    secrets = secret_fields(instance)
    return {key: [None, _public(key, value, secrets)] for key, value in snapshot(instance).items()}


def _entry(action: str, instance: models.Model, changes: dict[str, Any]) -> AuditLog:
    """An unsaved audit row for `instance` in the current actor context."""
    context = get_actor_context()
    actor = context.user if getattr(context.user, "is_authenticated", False) else None
    return AuditLog(
        actor=actor,
        actor_repr=str(actor)[:254] if actor is not None else "",
        action=action,
        model=model_label(instance),
        object_id=str(instance.pk),
        object_repr=str(instance)[:255],
        changes=changes,
        trace_id=get_trace_id() or "",
        ip=context.ip,
        user_agent=context.user_agent[:512],
    )


def _changed(instance_or_model: Any) -> None:
    """Every audited write makes the model's cached responses stale."""
    namespace_bump(model_label(instance_or_model))


def audit_create(instance: models.Model) -> AuditLog:
    """Record a created object: every audited field as `[null, value]`."""
    _changed(instance)
    entry = _entry(AuditAction.CREATE, instance, _created(instance))
    entry.save()
    return entry


def audit_update(instance: models.Model, old: Snapshot) -> AuditLog | None:
    """Record an update against the snapshot taken before it; nothing when nothing changed."""
    _changed(instance)
    changes = diff(old, snapshot(instance), secret_fields(instance))
    if not changes:
        return None
    entry = _entry(AuditAction.UPDATE, instance, changes)
    entry.save()
    return entry


def _state_change(action: str, instance: models.Model, changes: dict[str, Any]) -> AuditLog:
    """Record a delete, restore or purge."""
    _changed(instance)
    entry = _entry(action, instance, changes)
    entry.save()
    return entry


def audit_delete(instance: models.Model) -> AuditLog:
    """Record a soft delete."""
    return _state_change(AuditAction.DELETE, instance, {"is_deleted": [False, True]})


def audit_restore(instance: models.Model) -> AuditLog:
    """Record a restore from the trash."""
    return _state_change(AuditAction.RESTORE, instance, {"is_deleted": [True, False]})


def audit_purge(instance: models.Model) -> AuditLog:
    """Record a permanent delete, keeping the last values of the row."""
    secrets = secret_fields(instance)
    changes = {
        key: [_public(key, value, secrets), None] for key, value in snapshot(instance).items()
    }
    return _state_change(AuditAction.PURGE, instance, changes)


def audit_bulk_create(instances: Iterable[models.Model]) -> list[AuditLog]:
    """Record many created objects with one INSERT."""
    instances = list(instances)
    if instances:
        _changed(instances[0])
    entries = [_entry(AuditAction.CREATE, instance, _created(instance)) for instance in instances]
    return AuditLog.objects.bulk_create(entries)


def audit_bulk_update(
    instances: Sequence[models.Model], olds: Sequence[Snapshot]
) -> list[AuditLog]:
    """Record many updates with one INSERT (objects whose values did not change are skipped)."""
    if instances:
        _changed(instances[0])
    entries = []
    for instance, old in zip(instances, olds, strict=True):
        changes = diff(old, snapshot(instance), secret_fields(instance))
        if changes:
            entries.append(_entry(AuditAction.UPDATE, instance, changes))
    return AuditLog.objects.bulk_create(entries)


class LoggingMixin:
    """Audit hooks for serializers and views: `log_create`, `log_update(old, new)`, ...

    Each is one line over the `audit_*` functions, so any class can record what it changed.
    """

    def log_create(self, instance: models.Model) -> AuditLog:
        """Record a create."""
        return audit_create(instance)

    def log_update(self, instance: models.Model, old: Snapshot) -> AuditLog | None:
        """Record an update against the snapshot taken before it."""
        return audit_update(instance, old)

    def log_delete(self, instance: models.Model) -> AuditLog:
        """Record a soft delete."""
        return audit_delete(instance)

    def log_restore(self, instance: models.Model) -> AuditLog:
        """Record a restore."""
        return audit_restore(instance)

    def log_purge(self, instance: models.Model) -> AuditLog:
        """Record a permanent delete."""
        return audit_purge(instance)

    def log_bulk_create(self, instances: Iterable[models.Model]) -> list[AuditLog]:
        """Record many creates with one INSERT."""
        return audit_bulk_create(instances)

    def log_bulk_update(
        self, instances: Sequence[models.Model], olds: Sequence[Snapshot]
    ) -> list[AuditLog]:
        """Record many updates with one INSERT."""
        return audit_bulk_update(instances, olds)
