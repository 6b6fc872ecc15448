"""Catalog list filters."""

from typing import Any, ClassVar

import django_filters
from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from apps.catalog.models import Product, Tag
from apps.catalog.selectors import category_descendant_ids


@extend_schema_field(OpenApiTypes.STR)
class TagNameFilter(django_filters.ModelMultipleChoiceFilter):
    """Tags by name (`?tags=red&tags=new`), as product lists show them."""


class ProductFilter(django_filters.FilterSet):
    """`?category=&min_price=&max_price=&in_stock=&tags=&is_active=`.

    `category` includes its sub-categories; `tags` (names, as lists show them) matches
    products with any of the tags.
    """

    category = django_filters.UUIDFilter(method="filter_category")
    min_price = django_filters.NumberFilter(
        field_name="price", lookup_expr="gte", max_digits=12, decimal_places=2
    )
    max_price = django_filters.NumberFilter(
        field_name="price", lookup_expr="lte", max_digits=12, decimal_places=2
    )
    in_stock = django_filters.BooleanFilter(method="filter_in_stock")
    tags = TagNameFilter(
        field_name="tags__name", queryset=Tag.objects.all(), to_field_name="name", distinct=True
    )
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Product
        fields: ClassVar[list[str]] = []

    def filter_category(self, queryset: models.QuerySet[Any], name: str, value: Any) -> Any:
        """The category and everything below it."""
        return queryset.filter(category_id__in=category_descendant_ids(root_ids=[value]))

    def filter_in_stock(self, queryset: models.QuerySet[Any], name: str, value: bool) -> Any:
        """Stock above zero (true) or none (false)."""
        return queryset.filter(stock__gt=0) if value else queryset.filter(stock=0)
