"""`ProjectedListModelMixin`: DRF's list, read through the serializer's projection plan."""

from typing import Any

from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.http.projection import (
    RowPlan,
    prefetch_lookups,
    projection_plan_or_none,
)


class ProjectedListModelMixin(ListModelMixin, GenericAPIView):
    """DRF's `list`: filter, page, serialize. When the list serializer declares
    `projected = True` (AppReadOnlyModelSerializer does) and every field it outputs can be
    read from columns, the page is read with `values()` and converted by the serializer's
    plan (apps.core.http.projection); otherwise through model instances, as DRF does. The
    JSON is the same either way (tested per read serializer)."""

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The (paged) list of the filtered queryset."""
        queryset = self.filter_queryset(self.get_queryset())
        plan = self.list_projection(queryset)
        source = (
            queryset if plan is None else plan.select(queryset, extra=self.cursor_fields(queryset))
        )
        page = self.paginate_queryset(source)
        items = page if page is not None else source
        if plan is None:
            data: Any = self.get_serializer(items, many=True).data
        else:
            context = self.get_serializer_context()
            data = plan.represent(list(items), context, prefetch_lookups(queryset))
        return self.get_paginated_response(data) if page is not None else Response(data)

    def list_projection(self, queryset: Any) -> RowPlan | None:
        """The list serializer's plan for `queryset`, or None for the model path."""
        return projection_plan_or_none(self.get_serializer_class(), queryset)

    def cursor_fields(self, queryset: Any) -> tuple[str, ...]:
        """The columns a cursor paginator reads from the page's last row."""
        paginator = self.paginator
        if not isinstance(paginator, CursorPagination):
            return ()
        ordering = paginator.get_ordering(self.request, queryset, self)
        return tuple(str(name).lstrip("-") for name in ordering)
