"""Order payloads and representations (DESIGN.md: Orders)."""

from rest_framework import serializers

from apps.core.http.serializers import AppReadOnlyModelSerializer, AppSerializer
from apps.orders.models import Order, OrderItem, OrderStatus

MAX_LINES = 50
MAX_QUANTITY = 100
STAFF_TARGETS = (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED)


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
