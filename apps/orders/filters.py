"""Order list filters: status, and a range of local days in the caller's time zone."""

import django_filters
from django.db import models

from apps.core.http.filters import LocalDayRangeFilterSet, LocalDayRangeForm
from apps.orders.models import Order, OrderStatus
from apps.orders.selectors import order_list_filtered


class OrderFilter(LocalDayRangeFilterSet):
    """`?status=&created_from=YYYY-MM-DD&created_to=YYYY-MM-DD&tz=Asia/Tokyo`.

    Days are the caller's local days in `tz` (default UTC), both included, turned into UTC
    bounds on the server.
    """

    status = django_filters.ChoiceFilter(choices=OrderStatus.choices, method="keep")

    class Meta:
        model = Order
        fields = ("status", "created_from", "created_to", "tz")
        form = LocalDayRangeForm

    def filter_queryset(self, queryset: models.QuerySet[Order]) -> models.QuerySet[Order]:
        """All filters at once (the day bounds need `tz`)."""
        data = self.form.cleaned_data
        return order_list_filtered(
            queryset,
            status=data.get("status") or None,
            created_from=data.get("created_from"),
            created_to=data.get("created_to"),
            tz=data.get("tz"),
        )
