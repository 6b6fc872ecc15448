"""Admin of orders: items inline, money read-only, the status flow as actions."""

from typing import Any, ClassVar

from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest
from rest_framework.exceptions import APIException

from apps.core.admin import DeletedFilter, ReadOnlyTabularInline, SoftDeleteAdmin
from apps.core.platform.context import acting_as
from apps.orders.models import Order, OrderExport, OrderItem, OrderStatus
from apps.orders.services import order_transition

MONEY_AND_HISTORY = (
    "number",
    "customer",
    "currency",
    "subtotal",
    "total",
    "paid_at",
    "cancelled_at",
    "version",
    "created_at",
)


class OrderItemInline(ReadOnlyTabularInline):
    """The lines as they were ordered (never edited: prices and stock are fixed)."""

    model = OrderItem
    fields = ("sku", "name", "unit_price", "quantity", "line_total", "product")


def _transition_action(target: str, label: str) -> Any:
    """An admin action moving the selected orders to `target` through the order service."""

    @admin.action(description=label)
    def move(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: Any) -> None:
        moved = 0
        with acting_as(request):
            for order in queryset.order_by("created_at"):
                try:
                    order_transition(
                        order=order, target=target, version=order.version, by_staff=True
                    )
                    moved += 1
                except APIException as exc:  # a 409 of the flow, or of the refund
                    model_admin.message_user(request, f"{order}: {exc.detail}", messages.ERROR)
        model_admin.message_user(request, f"{moved} order(s) now {target}.", messages.SUCCESS)

    move.__name__ = f"mark_{target}"
    return move


@admin.register(Order)
class OrderAdmin(SoftDeleteAdmin):
    """Orders: search by number or email, filter by status; moves go through the service
    (version checked, audited, the customer notified)."""

    list_display = ("number", "customer", "status", "total", "currency", "created_at")
    list_filter: ClassVar[Any] = (DeletedFilter, "status")
    list_select_related = ("customer",)
    search_fields = ("number", "customer__email")
    readonly_fields = (*MONEY_AND_HISTORY, "status")
    fields = (*MONEY_AND_HISTORY, "status", "shipping_address", "note")
    inlines = (OrderItemInline,)
    actions: Any = (
        "restore_selected",
        _transition_action(OrderStatus.SHIPPED, "Mark selected orders shipped"),
        _transition_action(OrderStatus.DELIVERED, "Mark selected orders delivered"),
        _transition_action(OrderStatus.CANCELLED, "Cancel selected orders (stock returned)"),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Orders come from checkout only."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Orders are cancelled, never deleted."""
        return False

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        """With the customer, for the list."""
        return super().get_queryset(request).select_related("customer")


@admin.register(OrderExport)
class OrderExportAdmin(SoftDeleteAdmin):
    """Exports and how far they got."""

    list_display = ("pk", "requester", "format", "status", "progress", "created_at")
    list_filter: ClassVar[Any] = (DeletedFilter, "status", "format")
    readonly_fields = ("requester", "format", "filters", "status", "progress", "file", "error")

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Exports are requested through the API, which runs them."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Shown, never edited: every field is the export job's doing."""
        return False
