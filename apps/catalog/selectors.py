"""Catalog reads: one query shape per endpoint, with everything a page needs."""

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import DecimalField, ExpressionWrapper, F, Value
from django.utils import timezone

from apps.catalog.models import Banner, Category, Product

FINAL_PRICE = ExpressionWrapper(
    F("price") * (Value(100) - F("discount_percent")) / Value(Decimal("100")),
    output_field=DecimalField(max_digits=14, decimal_places=2),
)


def category_list() -> models.QuerySet[Category]:
    """Live categories in tree order (parent ids included, no join)."""
    return Category.objects.order_by("sort_order", "name")


def category_descendant_ids(*, root_ids: list[Any]) -> set[Any]:
    """The roots and every category below them (one query: the tree is small)."""
    children: dict[Any, list[Any]] = {}
    for pk, parent_id in Category.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found, stack = set(), list(root_ids)
    while stack:
        current = stack.pop()
        if current not in found:
            found.add(current)
            stack.extend(children.get(current, []))
    return found


def product_list() -> models.QuerySet[Product]:
    """Products for lists: category joined, tags prefetched, final price computed in the
    database, the long description left out."""
    return (
        Product.objects.select_related("category")
        .prefetch_related("tags")
        .annotate(final_price=FINAL_PRICE)
        .defer("description")
        .order_by("-created_at")
    )


def product_detail() -> models.QuerySet[Product]:
    """Products for one object: as the list, with the description."""
    return (
        Product.objects.select_related("category")
        .prefetch_related("tags")
        .annotate(final_price=FINAL_PRICE)
    )


def banner_list_active(*, now: Any = None) -> models.QuerySet[Banner]:
    """Banners whose window contains `now` (default: this moment)."""
    moment = now or timezone.now()
    return Banner.objects.filter(starts_at__lte=moment, ends_at__gt=moment).order_by(
        "position", "-starts_at"
    )


def banner_list() -> models.QuerySet[Banner]:
    """Every live banner (for editors)."""
    return Banner.objects.order_by("position", "-starts_at")
