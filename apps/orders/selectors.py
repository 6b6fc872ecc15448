"""Order reads: one query shape per endpoint, everything a page needs, counted by the database."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import models
from django.db.models import Count, Prefetch

from apps.orders.models import Order, OrderExport, OrderItem


def order_list() -> models.QuerySet[Order]:
    """Orders, newest first, with customer, items (in order) and the item count: three queries
    for any page."""
    return (
        Order.objects.select_related("customer")
        .prefetch_related(Prefetch("items", queryset=OrderItem.objects.order_by("created_at")))
        .annotate(item_count=Count("items", filter=models.Q(items__is_deleted=False)))
        .order_by("-created_at", "-serial")
    )


def local_day_bounds(*, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """`[start, end)` of a calendar day in `tz`, as aware datetimes (compared in UTC)."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def order_list_filtered(
    queryset: models.QuerySet[Order],
    *,
    status: str | None = None,
    created_from: date | None = None,
    created_to: date | None = None,
    tz: ZoneInfo | None = None,
) -> models.QuerySet[Order]:
    """`queryset` narrowed by status and by local days in `tz` (both days included)."""
    zone = tz or ZoneInfo("UTC")
    if status:
        queryset = queryset.filter(status=status)
    if created_from is not None:
        queryset = queryset.filter(created_at__gte=local_day_bounds(day=created_from, tz=zone)[0])
    if created_to is not None:
        queryset = queryset.filter(created_at__lt=local_day_bounds(day=created_to, tz=zone)[1])
    return queryset


def order_export_list() -> models.QuerySet[OrderExport]:
    """Exports, newest first."""
    return OrderExport.objects.order_by("-created_at")
