"""Pagination whose page information goes to `meta.pagination`, the items to `data`.

- `AppPageNumberPagination`: `?page=&page_size=`, the default of every list.
- `AppCursorPagination`: keyset cursor pages (`?cursor=`) that never shift when rows are
  added or removed between requests: a cursor holds the ordering values of the row it
  continues from, never an offset.
- `AppPageOrCursorPagination`: page numbers unless the client asks for cursor pages
  (`?pagination=cursor` to start, then the `cursor` of the links): infinite scroll. A
  PageNumberPagination; its cursor form is a `FollowingCursorPagination`.
"""

import base64
import binascii
import json
import operator
from datetime import date, datetime, time
from functools import reduce
from typing import Any, ClassVar

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Page
from django.db import models
from django.db.models.constants import LOOKUP_SEP
from django.db.models.query import ValuesIterable
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param

from apps.core.http.envelope import AppResponse

INVALID_CURSOR_MESSAGE = "This cursor is not valid; start again without `cursor`."
CURSOR_ORDERING_MESSAGE = "This cursor was made for another ordering; start again without `cursor`."
CURSOR_UNSERVED_MESSAGE = (
    "Cursor pages cannot follow an ordering by `{field}` (it may be empty, or is a relation); "
    "use page numbers or another ordering."
)
PAGINATION_MODE_MESSAGE = "Use `page` (the default) or `cursor`."
NO_ORDERING_MESSAGE = (
    "{paginator} has no ordering for {model}: declare `ordering` on the pagination class or "
    "order the view's queryset by field names."
)


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


def _field_direction(term: str) -> tuple[str, bool]:
    """`("price", True)` for `-price`: the field and whether it is descending."""
    return term.lstrip("-"), term.startswith("-")


def _is_unique(model: type[models.Model], name: str) -> bool:
    """Whether `name` alone identifies a row of `model`: the pk, a unique field, or a
    single-field unconditional unique constraint."""
    opts = model._meta
    if name == "pk" or (opts.pk is not None and name == opts.pk.name):
        return True
    try:
        field = opts.get_field(name)
    except FieldDoesNotExist:  # an annotation or a lookup across relations
        return False
    if getattr(field, "unique", False):
        return True
    return any(
        isinstance(constraint, models.UniqueConstraint)
        and tuple(constraint.fields) == (name,)
        and constraint.condition is None
        for constraint in opts.constraints
    )


def _keyset_field(queryset: Any, name: str) -> tuple[Any, bool]:
    """The field (or annotation's output field) an ordering term names, and whether a keyset
    can follow it: never null along the way, and a value rather than a relation."""
    annotation = queryset.query.annotations.get(name)
    if annotation is not None:
        field = annotation.output_field
        return field, not field.null and not field.is_relation
    model, field, nullable = queryset.model, None, False
    for part in name.split(LOOKUP_SEP):
        field = model._meta.pk if part == "pk" else model._meta.get_field(part)
        nullable = nullable or bool(getattr(field, "null", False))
        model = field.related_model or model
    return field, not nullable and field is not None and not field.is_relation


def _with_columns(queryset: Any, ordering: tuple[str, ...]) -> Any:
    """`queryset`, whose rows also carry the ordering's values when it reads dicts of chosen
    columns (`values(...)`, as the core's projected lists do)."""
    fields = getattr(queryset, "_fields", None)
    if not fields or not issubclass(getattr(queryset, "_iterable_class", object), ValuesIterable):
        return queryset
    missing = [name for name in (_field_direction(t)[0] for t in ordering) if name not in fields]
    return queryset.values(*fields, *missing) if missing else queryset


def _encode_value(value: Any) -> Any:
    """A JSON value for a row's ordering value (date-times keep their microseconds)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)  # Decimal, UUID


def _b64encode(payload: dict[str, Any]) -> str:
    """URL-safe base64 of compact JSON, without padding."""
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _b64decode(token: str) -> Any:
    """The JSON a cursor holds; ValueError when it holds none."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        return json.loads(raw)
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(str(exc)) from exc


class KeysetCursor:
    """Where a cursor page starts: the ordering values of a row (`values`, one per ordering
    term), the direction (`backwards` for a previous page) and whether the row itself is
    part of the page (`inclusive`: the previous page of an empty one)."""

    __slots__ = ("backwards", "inclusive", "ordering", "values")

    def __init__(
        self, ordering: tuple[str, ...], values: list[Any], *, backwards: bool, inclusive: bool
    ) -> None:
        """The cursor's parts."""
        self.ordering, self.values = ordering, values
        self.backwards, self.inclusive = backwards, inclusive

    def encode(self) -> str:
        """The `cursor` query value."""
        payload: dict[str, Any] = {
            "o": list(self.ordering),
            "v": [_encode_value(v) for v in self.values],
        }
        if self.backwards:
            payload["b"] = 1
        if self.inclusive:
            payload["i"] = 1
        return _b64encode(payload)


class AppCursorPagination(CursorPagination):
    """Keyset cursor pages; meta `{next, previous}`.

    The ordering is the view's `?ordering=` (its OrderingFilter), else the class's
    `ordering`, else the queryset's own (`ordering = None`); the primary key is appended
    when the ordering does not already end on a unique field, so the order is total. A cursor
    holds the ordering values of the row a page continues from, and the next page is the rows
    strictly after those values (one `WHERE` on the ordering's columns, no OFFSET, no COUNT):
    rows inserted or deleted between two requests never shift a page. A cursor that does not
    decode, whose values do not fit the fields, or that was made for another ordering is a
    400 on `cursor`; an ordering by a nullable field is a 400 on `ordering`. `page_size` is
    capped at `max_page_size` and the links carry the size served.
    """

    ordering: Any = ("-created_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 100
    cursor_query_description = (
        "Where the page starts: the `cursor` of a `next` or `previous` link, sent unchanged."
    )
    page_size_query_description = "Rows per page (at most 100)."

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        """The page of rows after (or before) the cursor's row, in the ordering."""
        self.request = request
        self.page_size = self.get_page_size(request)
        if not self.page_size:
            return None
        self.page_url = self._base_url(request)
        self.ordering = self.get_ordering(request, queryset, view)
        fields = self._ordering_fields(queryset)
        self.keyset = cursor = self.decode_cursor(request)
        backwards = cursor is not None and cursor.backwards
        terms = self.ordering
        if backwards:
            terms = tuple(t[1:] if t.startswith("-") else f"-{t}" for t in terms)
        ordered = _with_columns(queryset, self.ordering).order_by(*terms)
        if cursor is not None:
            values = self._values(cursor, fields)
            ordered = ordered.filter(self._beyond(terms, values, inclusive=cursor.inclusive))
        rows = list(ordered[: self.page_size + 1])
        more = len(rows) > self.page_size
        self.page = rows[: self.page_size]
        if backwards:
            self.page.reverse()
            self.has_previous, self.has_next = more, True
        else:
            self.has_previous, self.has_next = cursor is not None, more
        return self.page

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        """The requested, declared or queryset ordering, made total with the primary key."""
        ordering = self._requested_ordering(request, queryset, view) or self._default_ordering(
            queryset
        )
        terms = tuple(str(term) for term in ordering)
        if not terms or not _is_unique(queryset.model, _field_direction(terms[-1])[0]):
            descending = bool(terms) and _field_direction(terms[-1])[1]
            terms = (*terms, "-pk" if descending else "pk")
        return terms

    def _requested_ordering(self, request: Request, queryset: Any, view: Any) -> Any:
        """The ordering of the view's first ordering filter (`?ordering=`), if it gives one."""
        for backend in getattr(view, "filter_backends", None) or ():
            if hasattr(backend, "get_ordering"):
                ordering = backend().get_ordering(request, queryset, view)
                return (ordering,) if isinstance(ordering, str) else ordering
        return None

    def _default_ordering(self, queryset: Any) -> tuple[str, ...]:
        """The class's `ordering`, else the queryset's (its `order_by`, else the model's)."""
        declared = type(self).ordering
        if declared is not None:
            return (declared,) if isinstance(declared, str) else tuple(declared)
        query = queryset.query
        ordering = query.order_by or (query.default_ordering and queryset.model._meta.ordering)
        if not all(isinstance(term, str) for term in ordering or ()):
            raise ImproperlyConfigured(
                NO_ORDERING_MESSAGE.format(
                    paginator=type(self).__name__, model=queryset.model.__name__
                )
            )
        return tuple(ordering or ())

    def _ordering_fields(self, queryset: Any) -> list[Any]:
        """The model (or annotation) field of each ordering term; 400 on `ordering` for one a
        keyset cannot follow: a nullable one (`NULL` compares with nothing) or a relation
        (sorted by the related model's ordering, not by the value a cursor would hold)."""
        fields = []
        for term in self.ordering:
            name = _field_direction(term)[0]
            field, servable = _keyset_field(queryset, name)
            if not servable:
                message = CURSOR_UNSERVED_MESSAGE.format(field=name)
                raise ValidationError({"ordering": [message]}, code="invalid")
            fields.append(field)
        return fields

    def decode_cursor(self, request: Request) -> KeysetCursor | None:  # type: ignore[override]
        """The `cursor` parameter, or None; 400 on `cursor` when it is not one of ours or
        was made for another ordering."""
        token = request.query_params.get(self.cursor_query_param)
        if token is None:
            return None
        try:
            payload = _b64decode(token)
            ordering = tuple(payload["o"])
            values = list(payload["v"])
            backwards, inclusive = bool(payload.get("b")), bool(payload.get("i"))
        except (ValueError, TypeError, KeyError) as exc:
            raise self._invalid(INVALID_CURSOR_MESSAGE) from exc
        if ordering != tuple(self.ordering):
            raise self._invalid(CURSOR_ORDERING_MESSAGE)
        if len(values) != len(ordering):
            raise self._invalid(INVALID_CURSOR_MESSAGE)
        return KeysetCursor(ordering, values, backwards=backwards, inclusive=inclusive)

    def _values(self, cursor: KeysetCursor, fields: list[Any]) -> list[Any]:
        """The cursor's values as the fields' Python values; 400 on `cursor` otherwise."""
        try:
            values = [
                field.to_python(value) for field, value in zip(fields, cursor.values, strict=True)
            ]
        except (DjangoValidationError, TypeError, ValueError) as exc:
            raise self._invalid(INVALID_CURSOR_MESSAGE) from exc
        if any(value is None for value in values):
            raise self._invalid(INVALID_CURSOR_MESSAGE)
        return values

    def _invalid(self, message: str) -> ValidationError:
        """A 400 on the cursor parameter."""
        return ValidationError({self.cursor_query_param: [message]}, code="invalid")

    @staticmethod
    def _beyond(terms: tuple[str, ...], values: list[Any], *, inclusive: bool) -> models.Q:
        """Rows after `values` in the ordering `terms` (or at them too, when `inclusive`):
        `a > x OR (a = x AND b > y) OR ...`, each comparison in its term's direction."""
        alternatives, same = [], models.Q()
        for term, value in zip(terms, values, strict=True):
            name, descending = _field_direction(term)
            alternatives.append(
                same & models.Q(**{f"{name}__{'lt' if descending else 'gt'}": value})
            )
            same &= models.Q(**{name: value})
        if inclusive:
            alternatives.append(same)
        return reduce(operator.or_, alternatives)

    def _position(self, row: Any) -> list[Any]:
        """A row's values of the ordering's fields (a dict from `values()`, or an object)."""
        position = []
        for term in self.ordering:
            name = _field_direction(term)[0]
            if isinstance(row, dict):
                position.append(row[name])
                continue
            value = row
            for part in name.split("__"):
                value = getattr(value, part)
            position.append(value)
        return position

    def _base_url(self, request: Request) -> str:
        """The request's URL without `page`, with the page size served when one was asked."""
        url = remove_query_param(request.build_absolute_uri(), "page")
        if self.page_size_query_param in request.query_params:
            url = replace_query_param(url, self.page_size_query_param, self.page_size)
        return url

    def _link(self, cursor: KeysetCursor | None) -> str:
        """The URL of the page at `cursor` (None: the first page)."""
        if cursor is None:
            return remove_query_param(self.page_url, self.cursor_query_param)
        return replace_query_param(self.page_url, self.cursor_query_param, cursor.encode())

    def get_next_link(self) -> str | None:
        """The page after the last row; the first page after an empty previous page."""
        if not self.has_next:
            return None
        if not self.page:  # nothing lies before the cursor's row: the first page follows
            return self._link(None)
        last = self._position(self.page[-1])
        return self._link(KeysetCursor(self.ordering, last, backwards=False, inclusive=False))

    def get_previous_link(self) -> str | None:
        """The page before the first row; before an empty page, the page ending on the
        cursor's row."""
        if not self.has_previous:
            return None
        if self.page:
            first = self._position(self.page[0])
            return self._link(KeysetCursor(self.ordering, first, backwards=True, inclusive=False))
        cursor = self.keyset
        if cursor is None:  # a first page has no previous page
            return None
        return self._link(
            KeysetCursor(self.ordering, cursor.values, backwards=True, inclusive=True)
        )

    def get_pagination_meta(self) -> dict[str, Any]:
        """The `meta.pagination` of the current page."""
        return {"next": self.get_next_link(), "previous": self.get_previous_link()}

    def get_paginated_response(self, data: Any) -> AppResponse:
        """The page's items as data, the page information for `meta.pagination`."""
        return AppResponse(data, pagination=self.get_pagination_meta())

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The items' array: the envelope carries the page meta (apps.core.http.openapi)."""
        return schema


class FollowingCursorPagination(AppCursorPagination):
    """The cursor form of AppPageOrCursorPagination: the view's `?ordering=` or the
    queryset's own ordering (no declared one)."""

    ordering: Any = None


class AppPageOrCursorPagination(AppPageNumberPagination):
    """Page numbers by default (`?page=&page_size=`, as AppPageNumberPagination); cursor pages
    when the client asks for them: `?pagination=cursor` starts, the `cursor` of the links
    goes on (a request with `cursor` is a cursor request). For infinite scroll over a list
    that grows while it is read. The ordering, in both forms, is the view's `?ordering=` or
    the queryset's own, with the primary key as the last tie-breaker, so page numbers are
    deterministic too. `?pagination=` other than `page` or `cursor` is a 400.

    A PageNumberPagination (its default form); the cursor form is `cursor_pagination_class`
    (its `page_size` and `max_page_size` follow this class's).
    """

    mode_query_param = "pagination"
    modes = ("page", "cursor")
    cursor_pagination_class: ClassVar[type[AppCursorPagination]] = FollowingCursorPagination

    def uses_cursor(self, request: Request) -> bool:
        """Whether the request asks for cursor pages (400 on an unknown mode)."""
        mode = request.query_params.get(self.mode_query_param)
        if mode is not None and mode not in self.modes:
            raise ValidationError(
                {self.mode_query_param: [PAGINATION_MODE_MESSAGE]}, code="invalid"
            )
        cursor_param = self.cursor_pagination_class.cursor_query_param
        return mode == "cursor" or cursor_param in request.query_params

    def cursor_paginator(self) -> AppCursorPagination:
        """A cursor paginator with this class's page sizes."""
        cursors = self.cursor_pagination_class()
        cursors.page_size, cursors.max_page_size = self.page_size, self.max_page_size
        return cursors

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        """A cursor page when asked for, else a page-number page in the same total order."""
        self.cursors: AppCursorPagination | None = None
        if self.uses_cursor(request):
            self.cursors = self.cursor_paginator()
            return self.cursors.paginate_queryset(queryset, request, view)
        ordering = self.cursor_paginator().get_ordering(request, queryset, view)
        return super().paginate_queryset(queryset.order_by(*ordering), request, view)

    def get_pagination_meta(self) -> dict[str, Any]:
        """The current form's `meta.pagination`."""
        if self.cursors is not None:
            return self.cursors.get_pagination_meta()
        return super().get_pagination_meta()

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """`page`, `page_size`, `pagination` and `cursor`, for OpenAPI."""
        pages = super().get_schema_operation_parameters(view)
        names = {parameter["name"] for parameter in pages}
        mode = {
            "name": self.mode_query_param,
            "required": False,
            "in": "query",
            "description": (
                "`cursor` for cursor pages (infinite scroll: pages never shift when rows are "
                "added; follow `meta.pagination.next`); `page` (default) for page numbers."
            ),
            "schema": {"type": "string", "enum": list(self.modes), "default": "page"},
        }
        cursors = [
            parameter
            for parameter in self.cursor_paginator().get_schema_operation_parameters(view)
            if parameter["name"] not in names
        ]
        return [*pages, mode, *cursors]
