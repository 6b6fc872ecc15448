"""Catalog endpoints: declarations only; the core layer does the rest."""

from typing import Any

from django.db import models
from django.utils import timezone

from apps.catalog.filters import ProductFilter
from apps.catalog.models import Banner, Product
from apps.catalog.selectors import (
    banner_list,
    banner_list_active,
    banner_next_change,
    category_list,
    product_detail,
    product_list,
    tag_list,
)
from apps.catalog.serializers import (
    BannerSerializer,
    BannerWriteSerializer,
    CategorySerializer,
    CategoryWriteSerializer,
    ProductDetailSerializer,
    ProductListSerializer,
    ProductWriteSerializer,
    TagSerializer,
    TagWriteSerializer,
)
from apps.catalog.services import category_soft_delete
from apps.core.api.uploads import get_upload_api_view
from apps.core.http.pagination import AppPageOrCursorPagination
from apps.core.http.views import AppModelViewSet
from apps.core.uploads import IMAGE_TYPES

PUBLIC_READS = ("list", "retrieve")
BANNER_CACHE_MAX_SECONDS = 60


class CatalogReadsMixin:
    """Public reads show active rows only; editors (the feature's `update` flag) see all, and
    their cached answers are kept apart from the public's."""

    def is_editor(self) -> bool:
        """True for callers who may change this feature's rows."""
        return self.caller_scope("update") is not None  # type: ignore[attr-defined]

    def cache_audience(self) -> str:
        """Editors and the public get separate cache entries."""
        return "editors" if self.is_editor() else "public"


class CategoryViewSet(CatalogReadsMixin, AppModelViewSet):
    """Categories: anyone may browse; `catalog.categories` to edit."""

    feature = "catalog.categories"
    public_actions = PUBLIC_READS
    queryset = category_list()
    serializer_classes = {"retrieve": CategorySerializer, "write": CategoryWriteSerializer}
    search_fields = ("name",)
    ordering_fields = ("sort_order", "name")
    cache_responses = True
    etag = True

    def get_base_queryset(self) -> models.QuerySet[Any]:
        """Active categories for the public, all for editors."""
        return category_list(public=not self.is_editor())

    def perform_destroy(self, instance: Any) -> None:
        """Refused (409) while live products or sub-categories depend on it."""
        category_soft_delete(category=instance, actor=self.request.user)


class TagViewSet(AppModelViewSet):
    """Tags: anyone may list them; `catalog.tags` to create, rename and delete (bulk too)."""

    feature = "catalog.tags"
    public_actions = PUBLIC_READS
    queryset = tag_list()
    serializer_classes = {"retrieve": TagSerializer, "write": TagWriteSerializer}
    search_fields = ("name",)
    ordering_fields = ("name", "created_at")
    cache_responses = True
    etag = True


class ProductViewSet(CatalogReadsMixin, AppModelViewSet):
    """Products: anyone may browse and filter; `catalog.products` to edit (bulk included).
    Page numbers, or cursor pages for infinite scroll (`?pagination=cursor`) under any of
    the orderings."""

    feature = "catalog.products"
    public_actions = PUBLIC_READS
    pagination_class = AppPageOrCursorPagination
    queryset = product_detail()
    serializer_classes = {
        "list": ProductListSerializer,
        "retrieve": ProductDetailSerializer,
        "write": ProductWriteSerializer,
    }
    filterset_class = ProductFilter
    search_fields = ("name", "sku")
    ordering_fields = ("price", "final_price", "name", "created_at")
    cache_responses = True
    etag = True

    def get_base_queryset(self) -> models.QuerySet[Any]:
        """Lists leave the description out; the public sees active products only."""
        public = not self.is_editor()
        return (
            product_list(public=public) if self.action == "list" else product_detail(public=public)
        )


class BannerViewSet(CatalogReadsMixin, AppModelViewSet):
    """Banners: the public list holds those active now; `catalog.banners` to edit."""

    feature = "catalog.banners"
    public_actions = PUBLIC_READS
    queryset = banner_list()
    serializer_classes = {"retrieve": BannerSerializer, "write": BannerWriteSerializer}
    cache_responses = True
    etag = True

    def get_base_queryset(self) -> models.QuerySet[Any]:
        """The list shows banners active now; one banner is readable by id regardless."""
        return banner_list_active() if self.action == "list" else banner_list()

    def get_cache_timeout(self) -> int:
        """Until the next banner starts or ends (at most a minute): never past a boundary."""
        upcoming = banner_next_change()
        if upcoming is None:
            return BANNER_CACHE_MAX_SECONDS
        seconds = int((upcoming - timezone.now()).total_seconds())
        return max(0, min(BANNER_CACHE_MAX_SECONDS, seconds))


ProductImageUploadAPIView = get_upload_api_view(
    Product, "image", max_size_mb=3, allowed_types=IMAGE_TYPES, feature="catalog.products"
)
BannerImageUploadAPIView = get_upload_api_view(
    Banner, "image", max_size_mb=3, allowed_types=IMAGE_TYPES, feature="catalog.banners"
)
