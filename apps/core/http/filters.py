"""Filters feature apps build on: a range of local days in the caller's time zone, a bounded
`?search=`, date-times with real UTC offsets."""

from datetime import UTC, date, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import django_filters
from django import forms
from django.db import models
from django_filters.fields import IsoDateTimeField
from rest_framework.exceptions import ValidationError
from rest_framework.filters import SearchFilter

UNKNOWN_TZ_MESSAGE = "Unknown time zone; use an IANA name such as Europe/Berlin."
RANGE_MESSAGE = "created_from must not be after created_to."
DAY_OUT_OF_RANGE_MESSAGE = "Pick a day between 0002-01-01 and 9998-12-31."
FIRST_DAY, LAST_DAY = date(2, 1, 1), date(9998, 12, 31)  # a day in any zone stays a datetime


def _day_in_range(day: date | None) -> date | None:
    """`day`, or a 400 when its local midnight could fall outside Python's datetimes."""
    if day is not None and not FIRST_DAY <= day <= LAST_DAY:
        raise forms.ValidationError(DAY_OUT_OF_RANGE_MESSAGE, code="invalid")
    return day


class LocalDayRangeForm(forms.Form):
    """Checks `tz` is a known IANA zone and the day range is in order."""

    def clean_tz(self) -> ZoneInfo | None:
        """A ZoneInfo, or None for the default (UTC)."""
        name = self.cleaned_data.get("tz")
        if not name:
            return None
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise forms.ValidationError(UNKNOWN_TZ_MESSAGE, code="invalid") from exc

    def clean_created_from(self) -> date | None:
        """A day whose bounds exist in every time zone."""
        return _day_in_range(self.cleaned_data.get("created_from"))

    def clean_created_to(self) -> date | None:
        """A day whose bounds exist in every time zone."""
        return _day_in_range(self.cleaned_data.get("created_to"))

    def clean(self) -> dict[str, Any]:
        """`created_from` after `created_to` is a 400 on `created_to`."""
        data: dict[str, Any] = super().clean() or {}
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", forms.ValidationError(RANGE_MESSAGE, code="invalid"))
        return data


class LocalDayRangeFilterSet(django_filters.FilterSet):
    """`?created_from=YYYY-MM-DD&created_to=YYYY-MM-DD&tz=Asia/Tokyo` plus the subclass's own
    filters, applied together by `filter_queryset`, which subclasses implement with their
    selector (days are local to `tz`, default UTC, both included).

    Subclasses set `Meta.model`, `Meta.fields` and `Meta.form = LocalDayRangeForm` (or a
    subclass of it).
    """

    created_from = django_filters.DateFilter(method="keep")
    created_to = django_filters.DateFilter(method="keep")
    tz = django_filters.CharFilter(method="keep", max_length=64)

    def keep(self, queryset: models.QuerySet[Any], name: str, value: Any) -> Any:
        """Each filter alone does nothing: `filter_queryset` applies them together."""
        return queryset


SEARCH_TOO_LONG_MESSAGE = "Search at most {max_length} characters."
SEARCH_TOO_MANY_TERMS_MESSAGE = "Search at most {max_terms} words."
OFFSET_OUT_OF_RANGE_MESSAGE = "The UTC offset must be between -14:00 and +14:00."
MAX_UTC_OFFSET = timedelta(hours=14)


class AppSearchFilter(SearchFilter):
    """DRF's `?search=`, bounded: a thousand terms made one query per term (a 500 on SQLite,
    an expensive query on PostgreSQL); past the limits it is a 400 on `search`."""

    max_length = 200
    max_terms = 10

    def get_search_terms(self, request: Any) -> list[str]:
        """The terms, or a 400 when the search is too long or has too many words."""
        raw = request.query_params.get(self.search_param, "")
        if len(raw) > self.max_length:
            message = SEARCH_TOO_LONG_MESSAGE.format(max_length=self.max_length)
            raise ValidationError({self.search_param: [message]}, code="invalid")
        terms: list[str] = super().get_search_terms(request)
        if len(terms) > self.max_terms:
            message = SEARCH_TOO_MANY_TERMS_MESSAGE.format(max_terms=self.max_terms)
            raise ValidationError({self.search_param: [message]}, code="invalid")
        return terms


class BoundedIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time whose UTC offset is a real one (±14:00), as UTC."""

    def to_python(self, value: Any) -> Any:
        """Parse, check the offset, convert to UTC."""
        parsed = super().to_python(value)
        if parsed is None:
            return None
        offset = parsed.utcoffset()
        if offset is not None and abs(offset) > MAX_UTC_OFFSET:
            raise forms.ValidationError(OFFSET_OUT_OF_RANGE_MESSAGE, code="invalid")
        return parsed.astimezone(UTC)


class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """`IsoDateTimeFilter` that refuses offsets no time zone has (a 500 on PostgreSQL)."""

    field_class = BoundedIsoDateTimeField
