"""Catalog models: a category tree, tags, versioned products, time-boxed banners."""

from decimal import Decimal
from typing import Any, ClassVar

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apps.core.models import BaseModel, VersionedModel
from apps.core.uploads.sniffing import GeneratedUploadName

LIVE = models.Q(is_deleted=False)


class Category(BaseModel):
    """A node of the category tree (a root has no parent)."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    sort_order = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta(BaseModel.Meta):
        verbose_name_plural = "categories"
        ordering: ClassVar[list[str]] = ["sort_order", "name"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["slug"], condition=LIVE, name="catalog_category_slug_live"
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["parent", "sort_order"], name="catalog_category_tree_idx"),
        ]

    def __str__(self) -> str:
        """The name."""
        return self.name


class Tag(BaseModel):
    """A product label used for filtering ("vegan", "new")."""

    name = models.CharField(max_length=60)

    class Meta(BaseModel.Meta):
        ordering: ClassVar[list[str]] = ["name"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["name"], condition=LIVE, name="catalog_tag_name_live"),
        ]

    def __str__(self) -> str:
        """The name."""
        return self.name


class Product(VersionedModel):
    """A product for sale. Several admins may edit it at once (optimistic locking)."""

    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220)
    sku = models.CharField(max_length=64)
    description = models.TextField(blank=True)
    price = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    discount_percent = models.PositiveSmallIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    stock = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="products")
    image = models.FileField(upload_to=GeneratedUploadName("products"), blank=True, max_length=255)
    attributes = models.JSONField(default=dict, blank=True)

    class Meta(VersionedModel.Meta):
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["sku"], condition=LIVE, name="catalog_product_sku_live"
            ),
            models.UniqueConstraint(
                fields=["slug"], condition=LIVE, name="catalog_product_slug_live"
            ),
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="catalog_product_price_gte_0"
            ),
            models.CheckConstraint(
                condition=models.Q(discount_percent__gte=0, discount_percent__lte=100),
                name="catalog_product_discount_0_100",
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["category", "is_active"], name="catalog_product_cat_idx"),
            models.Index(fields=["price"], name="catalog_product_price_idx"),
            models.Index(fields=["-created_at"], name="catalog_product_newest_idx"),
            models.Index(fields=["name"], name="catalog_product_name_idx"),
        ]

    def __str__(self) -> str:
        """`SKU name`."""
        return f"{self.sku} {self.name}"


class Banner(BaseModel):
    """A home-screen banner shown between `starts_at` and `ends_at`."""

    title = models.CharField(max_length=120)
    image = models.FileField(upload_to=GeneratedUploadName("banners"), blank=True, max_length=255)
    link = models.URLField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta(BaseModel.Meta):
        ordering: ClassVar[list[str]] = ["position", "-starts_at"]
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="catalog_banner_ends_after_start",
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["starts_at", "ends_at"], name="catalog_banner_window_idx"),
        ]

    def __str__(self) -> str:
        """The title."""
        return self.title
