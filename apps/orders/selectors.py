"""Order reads: one query shape per endpoint, everything a page needs, counted by the database."""

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.db import models
from django.db.models import Count, Prefetch, Sum
from django.db.models.functions import Coalesce

from apps.core.records.periods import created_in_local_days
from apps.orders.models import Order, OrderExport, OrderItem


def order_list() -> models.QuerySet[Order]:
    """Orders, newest first, with customer and items (in order): the same few queries for
    any page (money totals are stored on the order, item counts are the items' length)."""
    return (
        Order.objects.select_related("customer")
        .prefetch_related(Prefetch("items", queryset=OrderItem.objects.order_by("created_at")))
        .order_by("-created_at", "-serial")
    )


def order_list_filtered(
    queryset: models.QuerySet[Order],
    *,
    status: str | None = None,
    created_from: date | None = None,
    created_to: date | None = None,
    tz: ZoneInfo | None = None,
) -> models.QuerySet[Order]:
    """`queryset` narrowed by status and by local days in `tz` (both days included)."""
    if status:
        queryset = queryset.filter(status=status)
    return created_in_local_days(queryset, created_from=created_from, created_to=created_to, tz=tz)


def order_export_list() -> models.QuerySet[OrderExport]:
    """Exports, newest first."""
    return OrderExport.objects.order_by("-created_at")


def order_export_list_of(*, requester: Any) -> models.QuerySet[OrderExport]:
    """The exports `requester` asked for, newest first (nobody else's, whatever their scope)."""
    return order_export_list().filter(requester=requester)


# The columns of an order export, in file order (one row per order; apps/orders/exports.py).
EXPORT_COLUMNS = (
    "number",
    "created_at",
    "status",
    "customer_email",
    "customer_name",
    "item_count",
    "quantity",
    "currency",
    "subtotal",
    "total",
    "paid_at",
    "cancelled_at",
)
# Columns that are not the order's own field of that name: where their values come from.
EXPORT_SOURCES = {"customer_email": "customer__email", "customer_name": "customer__name"}


def order_export_orders() -> models.QuerySet[Order]:
    """Every order, oldest first, with its live item count and units summed by the database."""
    live = models.Q(items__is_deleted=False)
    units = Coalesce(Sum("items__quantity", filter=live), 0, output_field=models.IntegerField())
    return (
        Order.objects.annotate(item_count=Count("items", filter=live))
        .annotate(quantity=units)
        .order_by("created_at", "serial")
    )


def order_export_rows(queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
    """`queryset` (from `order_export_orders`, scoped and filtered) as tuples in
    `EXPORT_COLUMNS` order: no model instances, one query per chunk when iterated."""
    return queryset.values_list(*(EXPORT_SOURCES.get(name, name) for name in EXPORT_COLUMNS))
