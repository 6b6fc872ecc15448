"""Date ranges in the caller's time zone: local calendar days turned into UTC bounds."""

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import models

UTC = ZoneInfo("UTC")


def local_day_bounds(*, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """`[start, end)` of a calendar day in `tz`, as aware datetimes (compared in UTC)."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def created_in_local_days(
    queryset: models.QuerySet[Any],
    *,
    created_from: date | None = None,
    created_to: date | None = None,
    tz: ZoneInfo | None = None,
    field: str = "created_at",
) -> models.QuerySet[Any]:
    """`queryset` narrowed to rows created on the local days `created_from`..`created_to`
    (both included) in `tz` (default UTC)."""
    zone = tz or UTC
    if created_from is not None:
        start = local_day_bounds(day=created_from, tz=zone)[0]
        queryset = queryset.filter(**{f"{field}__gte": start})
    if created_to is not None:
        end = local_day_bounds(day=created_to, tz=zone)[1]
        queryset = queryset.filter(**{f"{field}__lt": end})
    return queryset
