"""Keyset cursor pages (apps.core.http.pagination): total order, stable under inserts and
deletes, links both ways, bad cursors a 400 on `cursor`; the page-or-cursor switch."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from apps.core.http.pagination import (
    CURSOR_ORDERING_MESSAGE,
    CURSOR_UNSERVED_MESSAGE,
    INVALID_CURSOR_MESSAGE,
    PAGINATION_MODE_MESSAGE,
    AppCursorPagination,
    AppPageOrCursorPagination,
    KeysetCursor,
)
from tests.testapp.factories import NoteFactory
from tests.testapp.models import Note

pytestmark = pytest.mark.django_db

URL = "/api/v1/notes/"


class NotesView:
    """What the paginator reads of a view: its filter backends and allowed orderings."""

    filter_backends = (OrderingFilter,)
    ordering_fields = ("title", "priority", "created_at", "pinned_tag")


class ByPriority(AppCursorPagination):
    """Many ties: the primary key must break them."""

    ordering = ("priority",)
    page_size = 3


class PageOrCursor(AppPageOrCursorPagination):
    """The switch, three rows a page."""

    page_size = 3


def request(url: str = URL, **params: Any) -> Request:
    """A DRF request for `url` with query `params`."""
    return Request(APIRequestFactory().get(url, params))


def follow(link: str) -> Request:
    """A request for a link a page gave."""
    return Request(APIRequestFactory().get(link))


def page_of(paginator: Any, req: Request, queryset: Any = None) -> list[Any]:
    """The ids of the page `paginator` serves for `req`."""
    rows = paginator.paginate_queryset(
        queryset if queryset is not None else Note.objects.all(), req, view=NotesView()
    )
    return [row.pk for row in rows]


def notes(priorities: list[int]) -> list[Any]:
    """Notes with these priorities (ties on purpose)."""
    return [NoteFactory(priority=priority) for priority in priorities]


def expected(*ordering: str) -> list[Any]:
    """Every note's id in this total ordering."""
    return list(Note.objects.order_by(*ordering).values_list("pk", flat=True))


def test_the_primary_key_makes_the_ordering_total_unless_it_already_is() -> None:
    paginator = ByPriority()
    queryset = Note.objects.all()
    assert paginator.get_ordering(request(), queryset, NotesView()) == ("priority", "pk")
    descending = request(ordering="-priority")
    assert paginator.get_ordering(descending, queryset, NotesView()) == ("-priority", "-pk")
    assert AppCursorPagination().get_ordering(request(), queryset, None) == ("-created_at", "-id")


def test_forward_pages_over_ties_hold_every_row_once_in_order() -> None:
    notes([1, 1, 1, 1, 2, 2, 3, 3, 3, 3])
    seen: list[Any] = []
    paginator, req = ByPriority(), request()
    while True:
        paginator = ByPriority()
        seen += page_of(paginator, req)
        link = paginator.get_next_link()
        if link is None:
            break
        req = follow(link)
    assert seen == expected("priority", "pk")


def test_previous_links_walk_back_to_the_first_page() -> None:
    notes([2, 1, 2, 1, 2, 1, 3])
    forward, req = [], request(ordering="-priority")
    while True:
        paginator = ByPriority()
        forward.append(page_of(paginator, req))
        if paginator.get_next_link() is None:
            break
        req = follow(paginator.get_next_link() or "")
    backward, last = [], paginator
    while (link := last.get_previous_link()) is not None:
        last = ByPriority()
        backward.append(page_of(last, follow(link)))
    assert backward == forward[-2::-1]
    assert last.get_previous_link() is None  # the first page again: nothing before it
    assert forward[0] == expected("-priority", "-pk")[:3]


def test_a_page_does_not_shift_when_rows_are_added_or_removed_between_requests() -> None:
    notes([1, 1, 1, 1, 1, 1])
    first = ByPriority()
    page_one = page_of(first, request())
    before = expected("priority", "pk")
    # Rows that sort before the cursor, at the cursor's own priority, and after it; and a
    # row of page one deleted.
    notes([0, 1, 1, 5])
    Note.objects.filter(pk=page_one[0]).delete()
    second = ByPriority()
    page_two = page_of(second, follow(first.get_next_link() or ""))
    assert not set(page_two) & set(page_one)
    now = expected("priority", "pk")
    after_cursor = now[now.index(page_one[-1]) + 1 :] if page_one[-1] in now else []
    assert page_two == after_cursor[:3]
    assert before[3:6] == [pk for pk in after_cursor if pk in before][:3]


def test_an_empty_page_links_back_to_the_rows_before_it() -> None:
    notes([1, 2, 3, 4])
    first = ByPriority()
    page_of(first, request())
    link = first.get_next_link() or ""
    Note.objects.filter(priority=4).delete()  # the next page is empty now
    empty = ByPriority()
    assert page_of(empty, follow(link)) == []
    assert empty.get_next_link() is None
    back = ByPriority()
    assert page_of(back, follow(empty.get_previous_link() or "")) == expected("priority")[:3]


@pytest.mark.parametrize(
    ("cursor", "message"),
    [
        ("not base64 !", INVALID_CURSOR_MESSAGE),
        ("bm90IGpzb24", INVALID_CURSOR_MESSAGE),  # "not json"
        (KeysetCursor(("priority", "pk"), [1], backwards=False, inclusive=False).encode(), None),
        (
            KeysetCursor(
                ("priority", "pk"), ["high", "x"], backwards=False, inclusive=False
            ).encode(),
            INVALID_CURSOR_MESSAGE,
        ),
        (
            KeysetCursor(("title", "pk"), ["a", "b"], backwards=False, inclusive=False).encode(),
            CURSOR_ORDERING_MESSAGE,
        ),
    ],
)
def test_a_bad_cursor_is_a_400_on_cursor(cursor: str, message: str | None) -> None:
    notes([1])
    with pytest.raises(ValidationError) as raised:
        page_of(ByPriority(), request(cursor=cursor))
    detail: Any = raised.value.detail
    assert list(detail) == ["cursor"]
    assert str(detail["cursor"][0]) == (message or INVALID_CURSOR_MESSAGE)


def test_an_ordering_by_a_nullable_field_is_refused_for_cursors_only() -> None:
    notes([1, 2])
    with pytest.raises(ValidationError) as raised:
        page_of(ByPriority(), request(ordering="pinned_tag"))
    detail: Any = raised.value.detail
    assert str(detail["ordering"][0]) == CURSOR_UNSERVED_MESSAGE.format(field="pinned_tag")
    pages = PageOrCursor()
    assert len(page_of(pages, request(ordering="pinned_tag"))) == 2  # page numbers serve it


def test_the_page_size_is_capped_and_the_links_carry_the_size_served() -> None:
    NoteFactory.create_batch(3)
    paginator = AppCursorPagination()
    paginator.max_page_size = 2
    assert len(page_of(paginator, request(page_size="500", page="4"))) == 2
    link = paginator.get_next_link() or ""
    assert "page_size=2" in link
    assert "page=" not in link.replace("page_size=", "")


def test_a_cursor_page_costs_one_query_whatever_the_table_size() -> None:
    NoteFactory.create_batch(4)
    first = ByPriority()
    page_of(first, request())
    link = first.get_next_link() or ""
    with CaptureQueriesContext(connection) as few:
        page_of(ByPriority(), follow(link))
    NoteFactory.create_batch(30)
    with CaptureQueriesContext(connection) as many:
        page_of(ByPriority(), follow(link))
    assert len(few) == len(many) == 1
    assert "OFFSET" not in many.captured_queries[0]["sql"].upper()
    assert "COUNT(" not in many.captured_queries[0]["sql"].upper()


def test_page_numbers_by_default_cursor_pages_when_asked() -> None:
    notes([1, 1, 2, 2, 3])
    pages = PageOrCursor()
    assert page_of(pages, request()) == expected("-created_at", "-pk")[:3]
    assert set(pages.get_pagination_meta()) == {"count", "page", "page_size", "next", "previous"}
    cursors = PageOrCursor()
    assert page_of(cursors, request(pagination="cursor")) == expected("-created_at", "-pk")[:3]
    meta = cursors.get_pagination_meta()
    assert set(meta) == {"next", "previous"}
    assert "pagination=cursor" in meta["next"]
    assert "cursor=" in meta["next"]
    going_on = PageOrCursor()  # a `cursor` alone is a cursor request
    link = meta["next"].replace("pagination=cursor&", "").replace("&pagination=cursor", "")
    assert page_of(going_on, follow(link)) == expected("-created_at", "-pk")[3:]


def test_page_numbers_follow_the_same_total_order_as_cursors() -> None:
    notes([2, 2, 2, 2, 1, 1])
    pages, cursors = PageOrCursor(), PageOrCursor()
    by_priority = {"ordering": "priority"}
    assert page_of(pages, request(**by_priority)) == page_of(
        cursors, request(pagination="cursor", **by_priority)
    )
    assert (
        page_of(PageOrCursor(), request(page="2", **by_priority)) == expected("priority", "pk")[3:]
    )


def test_an_unknown_pagination_mode_is_a_400() -> None:
    with pytest.raises(ValidationError) as raised:
        page_of(PageOrCursor(), request(pagination="offset"))
    detail: Any = raised.value.detail
    assert str(detail["pagination"][0]) == PAGINATION_MODE_MESSAGE


def test_the_schema_parameters_document_both_forms() -> None:
    parameters = {p["name"]: p for p in PageOrCursor().get_schema_operation_parameters(None)}
    assert set(parameters) == {"page", "page_size", "pagination", "cursor"}
    assert parameters["pagination"]["schema"] == {
        "type": "string",
        "enum": ["page", "cursor"],
        "default": "page",
    }
