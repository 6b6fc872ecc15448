"""Orders, their items (with the product's SKU, name and price as they were), and exports."""

from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.db import models

from apps.core.models import BaseModel, VersionedModel

LIVE = models.Q(is_deleted=False)


class OrderStatus(models.TextChoices):
    """Where an order is in its life (DESIGN.md: Orders)."""

    PENDING = "pending", "Pending"
    PAID = "paid", "Paid"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"


# The status flow: from each status, where an order may go. Nothing leaves the last two.
TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


class Order(VersionedModel):
    """A customer's order: stock taken and prices fixed when it was placed."""

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    serial = models.PositiveBigIntegerField(editable=False)  # from orders.services
    number = models.CharField(max_length=20, editable=False)  # "ORD-000123", from `serial`
    status = models.CharField(
        max_length=10, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=14, decimal_places=2)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    shipping_address = models.JSONField()
    note = models.CharField(max_length=500, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta(VersionedModel.Meta):
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["serial"], name="orders_order_serial_unique"),
            models.UniqueConstraint(fields=["number"], name="orders_order_number_unique"),
            models.CheckConstraint(
                condition=models.Q(status__in=OrderStatus.values),
                name="orders_order_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(subtotal__gte=0, total__gte=0),
                name="orders_order_money_gte_0",
            ),
            models.CheckConstraint(
                condition=models.Q(total=models.F("subtotal")),
                name="orders_order_total_is_subtotal",  # no shipping or tax lines yet
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["customer", "-created_at"], name="orders_order_customer_idx"),
            models.Index(fields=["status", "-created_at"], name="orders_order_status_idx"),
            models.Index(fields=["total"], name="orders_order_total_idx"),
        ]

    def __str__(self) -> str:
        """The order number."""
        return self.number


class OrderItem(BaseModel):
    """One line of an order: the product, and its SKU, name and final price at that moment."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta(BaseModel.Meta):
        ordering: ClassVar[list[str]] = ["created_at", "sku"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["order", "product"], condition=LIVE, name="orders_item_product_once"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="orders_item_quantity_gt_0"
            ),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=Decimal("0")),
                name="orders_item_unit_price_gte_0",
            ),
            models.CheckConstraint(
                condition=models.Q(line_total=models.F("unit_price") * models.F("quantity")),
                name="orders_item_line_total",
            ),
        ]

    def __str__(self) -> str:
        """`quantity x SKU`."""
        return f"{self.quantity} x {self.sku}"


class ExportFormat(models.TextChoices):
    """File formats of an order export."""

    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"


class ExportStatus(models.TextChoices):
    """Where an export is."""

    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class OrderExport(BaseModel):
    """A file of the orders its requester may see, written by a Celery task."""

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="order_exports"
    )
    format = models.CharField(max_length=4, choices=ExportFormat.choices)
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=7, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    progress = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to="exports/", blank=True, max_length=255)
    error = models.CharField(max_length=500, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta(BaseModel.Meta):
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="orders_export_progress_lte_100"
            ),
            models.CheckConstraint(
                condition=models.Q(format__in=ExportFormat.values),
                name="orders_export_format_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ExportStatus.values),
                name="orders_export_status_valid",
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["requester", "-created_at"], name="orders_export_requester_idx"),
        ]

    def __str__(self) -> str:
        """`format export of <requester>`."""
        return f"{self.format} export {self.pk}"
