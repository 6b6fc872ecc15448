"""Filter sets of the core endpoints."""

from typing import Any, ClassVar

import django_filters

from apps.core.http.filters import BoundedIsoDateTimeFilter
from apps.core.models.audit import AuditAction, AuditLog


class AuditLogFilter(django_filters.FilterSet):
    """`?model=&object_id=&actor=&action=&created_after=&created_before=`."""

    model = django_filters.CharFilter(field_name="model", lookup_expr="iexact")
    object_id = django_filters.CharFilter(field_name="object_id")
    actor = django_filters.UUIDFilter(field_name="actor_id")
    action = django_filters.ChoiceFilter(choices=AuditAction.choices)
    created_after = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = AuditLog
        fields: ClassVar[list[Any]] = []
