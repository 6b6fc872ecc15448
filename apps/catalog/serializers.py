"""Catalog serializers: read shapes for lists and details, write shapes for editors."""

from typing import Any

from rest_framework import serializers

from apps.catalog.models import Banner, Category, Product, Tag
from apps.catalog.selectors import category_descendant_ids
from apps.core.http.serializers import (
    AppReadOnlyModelSerializer,
    AppWriteOnlyModelSerializer,
    BoundedJSONField,
)


class CategorySerializer(AppReadOnlyModelSerializer):
    """A category as clients read it (the tree is rebuilt from `parent`)."""

    parent = serializers.UUIDField(source="parent_id", allow_null=True)  # type: ignore[assignment]

    class Meta:
        model = Category
        fields = ("id", "name", "slug", "parent", "sort_order", "is_active")


CYCLE_MESSAGE = "A category cannot be its own parent or sit below one of its sub-categories."


class CategoryWriteSerializer(AppWriteOnlyModelSerializer):
    """Create or change a category (the tree may not loop)."""

    class Meta:
        model = Category
        fields = ("name", "slug", "parent", "sort_order", "is_active")

    def validate_parent(self, parent: Category | None) -> Category | None:
        """Refuse the category itself or anything below it as its parent."""
        below = category_descendant_ids(root_ids=[self.instance.pk]) if self.instance else set()
        if parent is not None and parent.pk in below:
            raise serializers.ValidationError(CYCLE_MESSAGE)
        return parent


class ProductListSerializer(AppReadOnlyModelSerializer):
    """A product in a list: no description; `final_price` computed by the database."""

    category = serializers.UUIDField(source="category_id")
    category_name = serializers.CharField(source="category.name")
    tags: serializers.Field[Any, Any, Any, Any] = serializers.SlugRelatedField(
        slug_field="name", many=True, read_only=True
    )
    final_price = serializers.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        model = Product
        fields = (
            "id",
            "name",
            "slug",
            "sku",
            "category",
            "category_name",
            "price",
            "discount_percent",
            "final_price",
            "stock",
            "is_active",
            "tags",
            "image",
            "version",
            "created_at",
        )


class ProductDetailSerializer(ProductListSerializer):
    """One product, with its description and attributes."""

    class Meta(ProductListSerializer.Meta):
        fields = (*ProductListSerializer.Meta.fields, "description", "attributes")  # type: ignore[assignment]


class ProductWriteSerializer(AppWriteOnlyModelSerializer):
    """Create or change a product (`version` required on update)."""

    tags = serializers.PrimaryKeyRelatedField(many=True, queryset=Tag.objects.all(), required=False)
    attributes = BoundedJSONField(required=False)

    class Meta:
        model = Product
        fields = (
            "category",
            "name",
            "slug",
            "sku",
            "description",
            "price",
            "discount_percent",
            "stock",
            "is_active",
            "tags",
            "attributes",
        )


class BannerSerializer(AppReadOnlyModelSerializer):
    """A banner."""

    class Meta:
        model = Banner
        fields = ("id", "title", "image", "link", "position", "starts_at", "ends_at")


class BannerWriteSerializer(AppWriteOnlyModelSerializer):
    """Create or change a banner."""

    class Meta:
        model = Banner
        fields = ("title", "link", "position", "starts_at", "ends_at")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The window must end after it starts."""
        attrs = super().validate(attrs)
        starts = attrs.get("starts_at", getattr(self.instance, "starts_at", None))
        ends = attrs.get("ends_at", getattr(self.instance, "ends_at", None))
        if starts and ends and ends <= starts:
            raise serializers.ValidationError({"ends_at": ["Must be after starts_at."]})
        return attrs
