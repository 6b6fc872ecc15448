"""Catalog factories."""

import itertools
from decimal import Decimal
from typing import Any

from apps.catalog.models import Category, Product, Tag

_numbers = itertools.count(1)


def category(**fields: Any) -> Category:
    """A live category."""
    n = next(_numbers)
    return Category.objects.create(**{"name": f"Category {n}", "slug": f"category-{n}", **fields})


def tag(**fields: Any) -> Tag:
    """A tag."""
    return Tag.objects.create(**{"name": f"tag-{next(_numbers)}", **fields})


def product(**fields: Any) -> Product:
    """A live product (a category is made when none is given)."""
    n = next(_numbers)
    values = {
        "name": f"Product {n}",
        "slug": f"product-{n}",
        "sku": f"SKU-{n:06d}",
        "price": Decimal("10.00"),
        "stock": 5,
        **fields,
    }
    values.setdefault("category", category())
    return Product.objects.create(**values)


def product_payload(category_id: Any, **fields: Any) -> dict[str, Any]:
    """A valid create body."""
    n = next(_numbers)
    return {
        "category": str(category_id),
        "name": f"New product {n}",
        "slug": f"new-product-{n}",
        "sku": f"NEW-{n:06d}",
        "price": "19.90",
        "discount_percent": 10,
        "stock": 3,
        **fields,
    }
