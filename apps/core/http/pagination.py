"""Pagination whose page information goes to `meta.pagination`, the items to `data`."""

from typing import Any

from django.core.paginator import Page
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

from apps.core.http.envelope import AppResponse


class AppPageNumberPagination(PageNumberPagination):
    """`?page=2&page_size=50` (at most 100); meta `{count, page, page_size, next, previous}`.

    A page past the end is an empty page (its `previous` is the last page), not DRF's 404:
    an infinite-scroll client that asks once too often gets nothing, not an error. A
    `page_size` over the maximum is capped, and the links carry the capped size.
    """

    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        """DRF's page, or an empty one for a page number past the last page."""
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            paginator = self.django_paginator_class(queryset, self.get_page_size(request) or 1)
            number = request.query_params.get(self.page_query_param, "")
            if not number.isdigit() or int(number) <= paginator.num_pages:
                raise  # not a number, zero, or a page that exists: DRF's answer stands
            self.page = Page([], int(number), paginator)
            return []

    def past_the_end(self) -> bool:
        """Whether the current page lies past the last page."""
        return self.page is not None and self.page.number > self.page.paginator.num_pages

    def get_next_link(self) -> str | None:
        """DRF's link (none past the end), with the capped page size."""
        if self.past_the_end():
            return None
        return self._capped(super().get_next_link())

    def get_previous_link(self) -> str | None:
        """DRF's link with the capped page size; past the end, the last page (if any)."""
        if not self.past_the_end():
            return self._capped(super().get_previous_link())
        request: Any = self.request
        paginator = self.page.paginator if self.page is not None else None
        if paginator is None or not paginator.count:
            return None
        url = replace_query_param(
            request.build_absolute_uri(), self.page_query_param, paginator.num_pages
        )
        return self._capped(url)

    def _capped(self, url: str | None) -> str | None:
        """`url` with the page size actually served, when the caller asked for one."""
        request: Any = self.request
        if url is None or self.page is None:
            return url
        if self.page_size_query_param not in request.query_params:
            return url
        return replace_query_param(url, self.page_size_query_param, self.page.paginator.per_page)

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
