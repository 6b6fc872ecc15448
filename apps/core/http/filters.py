"""Filter sets feature apps build on: a range of local days in the caller's time zone."""

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import django_filters
from django import forms
from django.db import models

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
