"""How many soft-deleted rows each model's trash holds (the trash's model list)."""

from collections.abc import Iterable
from typing import Any

from django.db.models import CharField, Count, Value

from apps.core.models.base import BaseModel


def trash_counts(*, models: Iterable[type[BaseModel]]) -> dict[str, int]:
    """`{app_label.model: soft-deleted rows}` for `models`, in one query (a UNION ALL of one
    COUNT per table)."""
    counted: list[Any] = [
        model.all_objects.filter(is_deleted=True)
        .order_by()
        .values(label=Value(model._meta.label_lower, output_field=CharField()))
        .annotate(rows=Count("pk"))
        .values_list("label", "rows")
        for model in models
    ]
    if not counted:
        return {}
    first, *others = counted
    rows = first.union(*others, all=True) if others else first
    return {str(label): int(count) for label, count in rows}
