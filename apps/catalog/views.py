"""Catalog endpoints: declarations only; the core layer does the rest."""

from typing import Any

from django.db import models

from apps.catalog.filters import ProductFilter
from apps.catalog.models import Product
from apps.catalog.selectors import (
    banner_list,
    banner_list_active,
    category_list,
    product_detail,
    product_list,
)
from apps.catalog.serializers import (
    BannerSerializer,
    BannerWriteSerializer,
    CategorySerializer,
    CategoryWriteSerializer,
    ProductDetailSerializer,
    ProductListSerializer,
    ProductWriteSerializer,
)
from apps.core.uploads import IMAGE_TYPES
from apps.core.views.generic import AppModelViewSet
from apps.core.views.uploads import get_upload_api_view

PUBLIC_READS = ("list", "retrieve")


class CategoryViewSet(AppModelViewSet):
    """Categories: anyone may browse; `catalog.categories` to edit."""

    feature = "catalog.categories"
    public_actions = PUBLIC_READS
    queryset = category_list()
    serializer_classes = {"retrieve": CategorySerializer, "write": CategoryWriteSerializer}
    search_fields = ("name",)
    ordering_fields = ("sort_order", "name")
    cache_responses = True
    cache_shared = True
    etag = True


class ProductViewSet(AppModelViewSet):
    """Products: anyone may browse and filter; `catalog.products` to edit (bulk included)."""

    feature = "catalog.products"
    public_actions = PUBLIC_READS
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
    cache_shared = True
    etag = True

    def get_base_queryset(self) -> models.QuerySet[Any]:
        """Lists leave the description out."""
        return product_list() if self.action == "list" else product_detail()


class BannerViewSet(AppModelViewSet):
    """Banners: the public list holds those active now; `catalog.banners` to edit."""

    feature = "catalog.banners"
    public_actions = PUBLIC_READS
    queryset = banner_list()
    serializer_classes = {"retrieve": BannerSerializer, "write": BannerWriteSerializer}
    cache_responses = True
    cache_shared = True
    cache_timeout = 60  # "active now" moves with the clock
    etag = True

    def get_base_queryset(self) -> models.QuerySet[Any]:
        """The list shows banners active now; one banner is readable by id regardless."""
        return banner_list_active() if self.action == "list" else banner_list()


ProductImageUploadAPIView = get_upload_api_view(
    Product, "image", max_size_mb=3, allowed_types=IMAGE_TYPES, feature="catalog.products"
)
