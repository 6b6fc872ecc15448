"""Order test data: orders placed through the real service, and request bodies."""

import uuid
from typing import Any

from apps.accounts.models import User
from apps.catalog.models import Product
from apps.orders.models import Order
from apps.orders.services import OrderLine, order_place
from tests.catalog.factories import ProductFactory
from tests.factories import UserFactory

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "line2": "",
    "city": "London",
    "postal_code": "N1 9GU",
    "country": "GB",
}


def order(customer: User | None = None, *, products: int = 1, quantity: int = 1) -> Order:
    """A pending order placed through `order_place` (fresh products with enough stock)."""
    lines = [OrderLine(ProductFactory(stock=quantity + 10).pk, quantity) for _ in range(products)]
    return order_place(
        customer=customer or UserFactory(), lines=lines, shipping_address=dict(ADDRESS)
    )


def place_payload(*lines: tuple[Product, int], note: str = "") -> dict[str, Any]:
    """A `POST /orders/` body for `(product, quantity)` lines."""
    return {
        "items": [{"product": str(product.pk), "quantity": qty} for product, qty in lines],
        "shipping_address": dict(ADDRESS),
        "note": note,
    }


def idempotency_key() -> str:
    """A fresh Idempotency-Key."""
    return f"test-{uuid.uuid4()}"
