"""Catalog reads: one query shape per endpoint, with everything a page needs."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import DecimalField, ExpressionWrapper, F, Value
from django.db.models.functions import Round
from django.utils import timezone

from apps.catalog.models import Banner, Category, Product, Tag

# Multiplying by 0.01 (not dividing by 100) keeps the arithmetic decimal on SQLite too, where
# a whole price is stored as an integer and `/ 100` would be integer division.
FINAL_PRICE = Round(
    ExpressionWrapper(
        F("price") * (Value(100) - F("discount_percent")) * Value(Decimal("0.01")),
        output_field=DecimalField(max_digits=14, decimal_places=4),
    ),
    2,
    output_field=DecimalField(max_digits=14, decimal_places=2),
)


def category_list(*, public: bool = False) -> models.QuerySet[Category]:
    """Live categories in tree order; the public sees only active ones."""
    queryset = Category.objects.order_by("sort_order", "name")
    return queryset.filter(is_active=True) if public else queryset


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


def tag_list() -> models.QuerySet[Tag]:
    """Live tags by name."""
    return Tag.objects.order_by("name")


def _products(*, public: bool) -> models.QuerySet[Product]:
    """Products with their category and tags and the final price; the public sees only
    active products of active categories."""
    queryset = (
        Product.objects.select_related("category")
        .prefetch_related("tags")
        .annotate(final_price=FINAL_PRICE)
    )
    if public:
        queryset = queryset.filter(is_active=True, category__is_active=True)
    return queryset


def product_list(*, public: bool = False) -> models.QuerySet[Product]:
    """Products for lists: the long description left out, newest first."""
    return _products(public=public).defer("description").order_by("-created_at")


def product_list_for_update(*, ids: list[Any]) -> models.QuerySet[Product]:
    """Products by id, row-locked in primary-key order (call inside a transaction), with their
    category and final price: what an order needs to take stock and fix prices."""
    return (
        Product.objects.select_for_update(of=("self",))
        .select_related("category")
        .annotate(final_price=FINAL_PRICE)
        .filter(pk__in=ids)
        .order_by("pk")
    )


def product_detail(*, public: bool = False) -> models.QuerySet[Product]:
    """Products for one object, with the description."""
    return _products(public=public)


def banner_next_change(*, now: datetime | None = None) -> datetime | None:
    """The next moment the set of active banners changes (a start or an end), if any."""
    moment = now or timezone.now()
    starts = (
        Banner.objects.filter(starts_at__gt=moment)
        .order_by("starts_at")
        .values_list("starts_at", flat=True)
        .first()
    )
    ends = (
        Banner.objects.filter(ends_at__gt=moment)
        .order_by("ends_at")
        .values_list("ends_at", flat=True)
        .first()
    )
    candidates = [value for value in (starts, ends) if value is not None]
    return min(candidates) if candidates else None


def banner_list_active(*, now: datetime | None = None) -> models.QuerySet[Banner]:
    """Banners whose window contains `now` (default: this moment)."""
    moment = now or timezone.now()
    return Banner.objects.filter(starts_at__lte=moment, ends_at__gt=moment).order_by(
        "position", "-starts_at"
    )


def banner_list() -> models.QuerySet[Banner]:
    """Every live banner (for editors)."""
    return Banner.objects.order_by("position", "-starts_at")
