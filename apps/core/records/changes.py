"""What a write changed, and the one signal every core write sends: `model_changed`.

The core services (apps.core.records.services) send it inside the write's transaction, once
per call (a bulk write sends one signal for all its rows). The audit writer subscribes and
writes its rows in that same transaction, so a change and its audit rows commit or roll back
together; the response cache subscribes and invalidates now and again after commit. A service
that writes by other means (a user created with a hashed password) reports its change with
`model_changed_send` so both still happen.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.fields.files import FieldFile
from django.dispatch import Signal

from apps.core.models.audit import AuditAction

Snapshot = dict[str, Any]
# orjson writes what it writes as DjangoJSONEncoder does (UUIDs, strings, numbers: the parsed
# values are the same); datetimes, dates, times, decimals and the rest go to Django's encoder.
_DJANGO_JSON = DjangoJSONEncoder()
_AS_DJANGO = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
# Bookkeeping columns that change on every write and say nothing about the change.
UNRECORDED_FIELDS = frozenset({"updated_at"})

# Sent with sender=<model class>, action=<AuditAction value>, changes=<list[Change]>.
model_changed = Signal()


@dataclass(frozen=True)
class Change:
    """One changed row: the instance as it is now, and its values before (None if new); and
    after, when the caller knows more than `snapshot()` reads (values beside the columns)."""

    instance: models.Model
    before: Snapshot | None = None
    after: Snapshot | None = None


def snapshot(instance: models.Model) -> Snapshot:
    """The recorded field values of an instance, JSON-safe (Decimal, UUID, dates as strings),
    plus what its `audit_related()` returns when it has one (rows that belong to it, recorded
    as one value so their changes show in its diff).

    Kept in memory only to compute a diff: the audit writer redacts secrets when it stores one.
    """
    values = {
        field.attname: _plain(field.value_from_object(instance))
        for field in instance._meta.concrete_fields
        if field.name not in UNRECORDED_FIELDS
    }
    related = getattr(instance, "audit_related", None)
    if callable(related) and instance.pk is not None:
        values.update(related())  # e.g. a role's permission set
    try:
        text = orjson.dumps(values, default=_DJANGO_JSON.default, option=_AS_DJANGO)
    except TypeError:  # beyond orjson (an integer past 64 bits): Django's encoder alone
        text = json.dumps(values, cls=DjangoJSONEncoder).encode()
    safe: Snapshot = json.loads(text)
    return safe


def _plain(value: Any) -> Any:
    """A stored file is recorded by its name."""
    return (value.name or None) if isinstance(value, FieldFile) else value


def model_changed_send(
    *, model: type[models.Model], action: AuditAction, changes: Sequence[Change]
) -> None:
    """Report a write of `model` (call inside the write's transaction)."""
    if changes:
        model_changed.send(sender=model, action=action, changes=list(changes))
