"""Order list filters: status, and a range of local days in the caller's time zone."""

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import django_filters
from django import forms
from django.db import models

from apps.orders.models import Order, OrderStatus
from apps.orders.selectors import order_list_filtered

UNKNOWN_TZ_MESSAGE = "Unknown time zone; use an IANA name such as Europe/Berlin."
RANGE_MESSAGE = "created_from must not be after created_to."


class OrderFilterForm(forms.Form):
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

    def clean(self) -> dict[str, Any]:
        """`created_from` after `created_to` is a 400 on `created_to`."""
        data: dict[str, Any] = super().clean() or {}
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", forms.ValidationError(RANGE_MESSAGE, code="invalid"))
        return data


class OrderFilter(django_filters.FilterSet):
    """`?status=&created_from=YYYY-MM-DD&created_to=YYYY-MM-DD&tz=Asia/Tokyo`.

    Days are the caller's local days in `tz` (default UTC), both included, turned into UTC
    bounds on the server.
    """

    status = django_filters.ChoiceFilter(choices=OrderStatus.choices, method="keep")
    created_from = django_filters.DateFilter(method="keep")
    created_to = django_filters.DateFilter(method="keep")
    tz = django_filters.CharFilter(method="keep", max_length=64)

    class Meta:
        model = Order
        fields = ("status", "created_from", "created_to", "tz")
        form = OrderFilterForm

    def keep(self, queryset: models.QuerySet[Order], name: str, value: Any) -> Any:
        """Each filter alone does nothing: `filter_queryset` applies them together."""
        return queryset

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
