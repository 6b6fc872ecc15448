"""Pagination whose page information goes to `meta.pagination`, the items to `data`."""

from typing import Any

from rest_framework.pagination import CursorPagination, PageNumberPagination

from apps.core.http.envelope import AppResponse


class AppPageNumberPagination(PageNumberPagination):
    """`?page=2&page_size=50` (at most 100); meta `{count, page, page_size, next, previous}`."""

    page_size_query_param = "page_size"
    max_page_size = 100

    def get_pagination_meta(self) -> dict[str, Any]:
        """The `meta.pagination` of the current page."""
        if self.page is None:
            raise RuntimeError("get_pagination_meta() is called after paginate_queryset().")
        return {
            "count": self.page.paginator.count,
            "page": self.page.number,
            "page_size": self.page.paginator.per_page,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
        }

    def get_paginated_response(self, data: Any) -> AppResponse:
        """The page's items as data, the page information for `meta.pagination`."""
        return AppResponse(data, pagination=self.get_pagination_meta())

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The items' array: the envelope (apps.core.http.openapi) carries the page meta."""
        return schema


class AppCursorPagination(CursorPagination):
    """Cursor pages for append-heavy tables; meta `{next, previous}`."""

    ordering = ("-created_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_pagination_meta(self) -> dict[str, Any]:
        """The `meta.pagination` of the current page."""
        return {"next": self.get_next_link(), "previous": self.get_previous_link()}

    def get_paginated_response(self, data: Any) -> AppResponse:
        """The page's items as data, the page information for `meta.pagination`."""
        return AppResponse(data, pagination=self.get_pagination_meta())

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The items' array: the envelope carries the page meta."""
        return schema
