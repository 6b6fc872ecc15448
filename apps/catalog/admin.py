"""Admin of the catalog: soft delete with a trash filter and a restore action everywhere."""

from django.contrib import admin

from apps.catalog.models import Banner, Category, Product, Tag
from apps.core.admin import DeletedFilter, SniffedImageForm, SoftDeleteAdmin


@admin.register(Category)
class CategoryAdmin(SoftDeleteAdmin):
    """Categories."""

    list_display = ("name", "slug", "parent", "sort_order", "is_active", "is_deleted")
    list_filter = (DeletedFilter, "is_active")
    list_select_related = ("parent",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Tag)
class TagAdmin(SoftDeleteAdmin):
    """Tags."""

    list_display = ("name", "is_deleted")
    search_fields = ("name",)


@admin.register(Product)
class ProductAdmin(SoftDeleteAdmin):
    """Products (saves bump the version, so API clients holding an old one get 409); the
    image must be an image by its content and is stored under a generated name."""

    form = SniffedImageForm

    list_display = (
        "sku",
        "name",
        "category",
        "price",
        "discount_percent",
        "stock",
        "is_active",
        "version",
    )
    list_filter = (DeletedFilter, "is_active", "category")
    list_select_related = ("category",)
    search_fields = ("name", "sku")
    autocomplete_fields = ("category", "tags")
    readonly_fields = ("version", "created_at", "updated_at")


@admin.register(Banner)
class BannerAdmin(SoftDeleteAdmin):
    """Banners; the image must be an image by its content."""

    form = SniffedImageForm

    list_display = ("title", "position", "starts_at", "ends_at", "is_deleted")
    list_filter = (DeletedFilter,)
    search_fields = ("title",)
