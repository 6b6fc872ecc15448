"""Order payloads and representations (DESIGN.md: Orders)."""

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django_filters.utils import translate_validation
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.http.serializers import AppReadOnlyModelSerializer, AppSerializer
from apps.orders.exports import order_export_file_url
from apps.orders.filters import OrderFilter
from apps.orders.models import ExportFormat, Order, OrderExport, OrderItem, OrderStatus

MAX_LINES = 50
MAX_QUANTITY = 100
STAFF_TARGETS = (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED)
EXPORT_FILTER_KEYS = ("status", "created_from", "created_to", "tz")


class OrderCustomerSerializer(AppSerializer):
    """Who placed the order."""

    id = serializers.UUIDField(read_only=True)
    email = serializers.EmailField(read_only=True)
    name = serializers.CharField(read_only=True)


class OrderItemSerializer(AppReadOnlyModelSerializer):
    """One line as it was ordered."""

    product = serializers.UUIDField(source="product_id", read_only=True)

    class Meta:
        model = OrderItem
        fields = ("id", "product", "sku", "name", "unit_price", "quantity", "line_total")


class OrderSerializer(AppReadOnlyModelSerializer):
    """An order with its customer and lines."""

    customer = OrderCustomerSerializer(read_only=True)
    items = OrderItemSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = (
            "id",
            "number",
            "status",
            "customer",
            "items",
            "currency",
            "subtotal",
            "total",
            "shipping_address",
            "note",
            "paid_at",
            "cancelled_at",
            "created_at",
            "updated_at",
            "version",
        )


class OrderLineSerializer(AppSerializer):
    """`{"product": "<uuid>", "quantity": 2}`."""

    product = serializers.UUIDField()
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class ShippingAddressSerializer(AppSerializer):
    """Where the order goes."""

    name = serializers.CharField(max_length=120)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=120)
    postal_code = serializers.CharField(max_length=20)
    country = serializers.RegexField(r"^[A-Z]{2}$", help_text="ISO 3166-1 alpha-2, e.g. DE")


class OrderPlaceSerializer(AppSerializer):
    """`POST /orders/`: 1-50 lines, quantity 1-100 each, a product at most once."""

    items = serializers.ListField(child=OrderLineSerializer(), min_length=1, max_length=MAX_LINES)
    shipping_address = ShippingAddressSerializer()
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class OrderCancelSerializer(AppSerializer):
    """`POST /orders/{id}/cancel/`: the version the caller read."""

    version = serializers.IntegerField(min_value=1)


class OrderStatusSerializer(AppSerializer):
    """`POST /orders/{id}/status/` (staff): the next status and the version read."""

    status = serializers.ChoiceField(choices=[(s.value, s.label) for s in STAFF_TARGETS])
    version = serializers.IntegerField(min_value=1)


class OrderExportCreateSerializer(AppSerializer):
    """`POST /orders/exports/`: a format and the order list's filters, checked by its rules."""

    format = serializers.ChoiceField(choices=ExportFormat.choices)
    # Checked by the list filter's form in `validate` (a second enum named "status" would
    # collide in the OpenAPI components with the order's own).
    status = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=10,
        help_text="An order status: " + ", ".join(OrderStatus.values) + ".",
    )
    created_from = serializers.DateField(required=False, help_text="A local day in `tz`.")
    created_to = serializers.DateField(required=False, help_text="A local day in `tz`.")
    tz = serializers.CharField(
        required=False, allow_blank=True, max_length=64, help_text="IANA time zone, default UTC."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """`{"format", "filters"}`: the filters pass OrderFilter's form (known `tz`, days in
        order) and are kept as the strings the export task reads back."""
        given = {key: attrs[key] for key in EXPORT_FILTER_KEYS if attrs.get(key) not in (None, "")}
        form = OrderFilter(data=given, queryset=Order.objects.none()).form
        if not form.is_valid():
            raise translate_validation(form.errors)
        filters = {key: str(value) for key, value in given.items()}  # dates as YYYY-MM-DD
        return {"format": attrs["format"], "filters": filters}


class OrderExportSerializer(AppReadOnlyModelSerializer):
    """An export: where it is, and a time-limited `file_url` once it is done."""

    file_url = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()

    class Meta:
        model = OrderExport
        fields = ("id", "format", "status", "progress", "file_url", "error", "created_at")

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_file_url(self, export: OrderExport) -> str | None:
        """S3: a pre-signed GET; local storage: the app's signed, expiring download link."""
        request = self.context.get("request")

        def local_url(token: str) -> str:
            version = getattr(request, "version", None) or "v1"
            path = reverse("orders-export-file", kwargs={"version": version, "pk": export.pk})
            url = f"{path}?{urlencode({'token': token})}"
            return request.build_absolute_uri(url) if request is not None else url

        return order_export_file_url(export=export, local_url=local_url)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_error(self, export: OrderExport) -> str | None:
        """Why it failed (or that its file was removed); null otherwise."""
        return export.error or None
