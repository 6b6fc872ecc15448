"""Database integrity errors turned into API errors that name the field, never a 500.

The constraint is recognised from the driver's message: PostgreSQL names the constraint,
SQLite names the constraint (CHECK) or the table and columns (UNIQUE). Every constraint of
every installed model is indexed once, so the message maps back to a model and its fields.
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.apps import apps
from django.db import IntegrityError, models
from rest_framework.exceptions import APIException, ValidationError

from apps.core.exceptions import UNIQUE_MESSAGE, Conflict

CHECK_MESSAGE = "This value is not allowed."
FOREIGN_KEY_MESSAGE = "A referenced object does not exist."
NOT_NULL_MESSAGE = "This field may not be null."
GENERIC_MESSAGE = "The data conflicts with existing records."

_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?P<columns>[\w., ]+)")
_SQLITE_NOT_NULL = re.compile(r"NOT NULL constraint failed: \w+\.(?P<column>\w+)")
_PG_NOT_NULL = re.compile(r'null value in column "(?P<column>\w+)"')


@dataclass(frozen=True)
class KnownConstraint:
    """A constraint of a model: its kind, the model's verbose name and the fields it covers."""

    kind: str  # "unique" or "check"
    model_name: str
    fields: tuple[str, ...]
    message: str | None = None


@lru_cache(maxsize=1)
def _constraint_index() -> tuple[dict[str, KnownConstraint], dict[str, KnownConstraint]]:
    """`{constraint name: ...}` and `{"table.col,table.col": ...}` for every model."""
    by_name: dict[str, KnownConstraint] = {}
    by_columns: dict[str, KnownConstraint] = {}
    for model in apps.get_models():
        opts = model._meta
        for constraint in opts.constraints:
            fields = tuple(
                getattr(constraint, "fields", ())
                or _expression_fields(constraint)
                or _condition_fields(getattr(constraint, "condition", None))
            )
            kind = "unique" if isinstance(constraint, models.UniqueConstraint) else "check"
            message = getattr(constraint, "violation_error_message", None)
            known = KnownConstraint(kind, str(opts.verbose_name), fields, message)
            by_name[constraint.name] = known
            if kind == "unique" and fields:
                columns = ",".join(f"{opts.db_table}.{_column(opts, f)}" for f in fields)
                by_columns[columns] = known
        for field in opts.concrete_fields:
            if field.unique and not field.primary_key:
                known = KnownConstraint("unique", str(opts.verbose_name), (field.name,))
                by_columns[f"{opts.db_table}.{field.column}"] = known
    return by_name, by_columns


def _column(opts: Any, name: str) -> str:
    """The database column of a model field."""
    field: Any = opts.get_field(name)
    return str(field.column)


def _expression_fields(constraint: models.BaseConstraint) -> list[str]:
    """Field names referenced by an expression-based unique constraint (e.g. Lower('email'))."""
    names: list[str] = []
    for expression in getattr(constraint, "expressions", ()):
        names.extend(str(ref) for ref in re.findall(r"F\((\w+)\)", repr(expression)))
    return names


def _condition_fields(condition: object) -> list[str]:
    """Field names a CheckConstraint's Q tests, in order (`price__gte` → `price`)."""
    names: list[str] = []
    stack = [condition]
    while stack:
        node = stack.pop(0)
        if isinstance(node, models.Q):
            stack.extend(node.children)
        elif isinstance(node, tuple) and node and isinstance(node[0], str):
            name = node[0].split("__")[0]
            if name not in names:
                names.append(name)
    return names


def _known(message: str) -> KnownConstraint | None:
    """The constraint the driver's message refers to, if it is one of ours."""
    by_name, by_columns = _constraint_index()
    for name, known in by_name.items():
        if re.search(rf"\b{re.escape(name)}\b", message):
            return known
    match = _SQLITE_UNIQUE.search(message)
    if match:
        columns = ",".join(part.strip() for part in match.group("columns").split(","))
        return by_columns.get(columns)
    return None


def integrity_error_to_api(exc: IntegrityError) -> APIException:
    """409 for a unique slot already taken, 400 for a check, foreign key or NOT NULL."""
    message = str(exc)
    known = _known(message)
    attr = known.fields[0] if known and known.fields else None
    if known and known.kind == "unique":
        detail = known.message if known.message and "%(" not in known.message else None
        field = " and ".join(known.fields) or "value"
        text = detail or UNIQUE_MESSAGE.format(model=known.model_name, field=field)
        return Conflict(text, attr=attr)
    if known and known.kind == "check":
        return ValidationError({attr or "non_field_errors": [CHECK_MESSAGE]}, code="invalid")
    not_null = _SQLITE_NOT_NULL.search(message) or _PG_NOT_NULL.search(message)
    if not_null:
        return ValidationError({not_null.group("column"): [NOT_NULL_MESSAGE]}, code="null")
    if "foreign key" in message.lower():
        return ValidationError({"non_field_errors": [FOREIGN_KEY_MESSAGE]}, code="invalid")
    return Conflict(GENERIC_MESSAGE)  # an unknown unique or exclusion constraint
