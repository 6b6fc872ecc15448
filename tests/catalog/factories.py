"""Catalog factories (factory-boy), and the small helpers the catalog tests call."""

import itertools
from datetime import timedelta
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from apps.catalog.models import Banner, Category, Product, Tag

_payload_numbers = itertools.count(1)


class CategoryFactory(factory.django.DjangoModelFactory):
    """A live, active category."""

    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class TagFactory(factory.django.DjangoModelFactory):
    """A catalog tag."""

    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"tag-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    """A live, active product in stock (a category is made when none is given)."""

    class Meta:
        model = Product

    category = factory.SubFactory(CategoryFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    sku = factory.Sequence(lambda n: f"SKU-{n:06d}")
    price = Decimal("10.00")
    stock = 5


class BannerFactory(factory.django.DjangoModelFactory):
    """A banner shown from an hour ago until tomorrow."""

    class Meta:
        model = Banner

    title = factory.Sequence(lambda n: f"Sale {n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    ends_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))


def category(**fields: Any) -> Category:
    """A live category."""
    return CategoryFactory(**fields)


def tag(**fields: Any) -> Tag:
    """A tag."""
    return TagFactory(**fields)


def product(**fields: Any) -> Product:
    """A live product (a category is made when none is given)."""
    return ProductFactory(**fields)


def product_payload(category_id: Any, **fields: Any) -> dict[str, Any]:
    """A valid create body (its slug and SKU never collide with ProductFactory's)."""
    n = next(_payload_numbers)
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
