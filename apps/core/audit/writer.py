"""Writing the audit log: diffs with secrets redacted, one row per changed object.

`audit_record_changes` is the receiver of `model_changed` (apps.core.records.changes), which
every core write sends inside its transaction, so a change and its audit rows commit together.
Code that writes outside the core services reports its change with `model_changed_send`.
The actor, IP and user agent come from the request's actor context (apps.core.platform.context),
the trace id from apps.core.platform.tracing; services never pass a request.
"""

import functools
import re
from typing import Any

from django.db import models

from apps.core.models.audit import AuditAction, AuditLog
from apps.core.platform.context import get_actor_context
from apps.core.platform.tracing import get_trace_id
from apps.core.records.changes import Change, Snapshot, snapshot

REDACTED = "[REDACTED]"
SECRET_FIELD = re.compile(r"pass(word)?|secret|token|api[-_]?key|signature|otp", re.IGNORECASE)


def model_label(model: type[models.Model] | models.Model) -> str:
    """`app_label.modelname`, the name the audit log and the trash use for a model."""
    return model._meta.label_lower


def secret_fields(model: type[models.Model] | models.Model) -> frozenset[str]:
    """Columns never written to the log: passwords, tokens, secrets, encrypted fields. A
    relation's id is never a secret (a revoked token's `token_id` names the token row)."""
    return _secret_fields_of(model._meta.concrete_model)


@functools.cache
def _secret_fields_of(model: type[models.Model]) -> frozenset[str]:
    """`secret_fields` of a model class (its fields are fixed: worked out once)."""
    return frozenset(
        field.attname
        for field in model._meta.concrete_fields
        if (SECRET_FIELD.search(field.name) and not field.is_relation)
        or getattr(field, "encrypted", False)
    )


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


def _who() -> dict[str, Any]:
    """The fields every audit row of the current actor context shares (read once a batch)."""
    context = get_actor_context()
    # Any: the project's user model, which the core layer cannot name (get_user_model()).
    actor: Any = context.user if getattr(context.user, "is_authenticated", False) else None
    return {
        "actor": actor,
        "actor_repr": str(actor)[:254] if actor is not None else "",
        "trace_id": get_trace_id() or "",
        "ip": context.ip,
        "user_agent": context.user_agent[:512],
    }


def _entry(
    action: str, instance: models.Model, changes: dict[str, Any], who: dict[str, Any]
) -> AuditLog:
    """An unsaved audit row for `instance` by `who` (`_who()`)."""
    return AuditLog(
        action=action,
        model=model_label(instance),
        object_id=str(instance.pk),
        object_repr=str(instance)[:255],
        changes=changes,
        **who,
    )


_STATE_CHANGES: dict[str, dict[str, list[Any]]] = {
    AuditAction.DELETE: {"is_deleted": [False, True]},
    AuditAction.RESTORE: {"is_deleted": [True, False]},
}


def _changes_of(action: str, change: Change) -> dict[str, list[Any]]:
    """`{field: [old, new]}` of one change, secrets redacted (empty when nothing changed)."""
    instance = change.instance
    if action in _STATE_CHANGES:
        return _STATE_CHANGES[action]
    secrets = secret_fields(instance)
    if action == AuditAction.UPDATE:
        after = change.after if change.after is not None else snapshot(instance)
        return diff(change.before or {}, after, secrets)
    if action == AuditAction.PURGE:  # the last values of the row
        last = change.before if change.before is not None else snapshot(instance)
        return {key: [_public(key, value, secrets), None] for key, value in last.items()}
    return {key: [None, _public(key, value, secrets)] for key, value in snapshot(instance).items()}


def audit_record_changes(
    sender: type[models.Model],  # noqa: ARG001 - the signal's sender, the model
    *,
    action: str,
    changes: list[Change],
    **kwargs: Any,
) -> list[AuditLog]:
    """Receiver of `model_changed`: one row per changed object (unchanged updates skipped),
    written with one INSERT."""
    entries, who = [], _who()
    for change in changes:
        recorded = _changes_of(action, change)
        if recorded:
            entries.append(_entry(action, change.instance, recorded, who))
    return AuditLog.objects.bulk_create(entries) if entries else []
