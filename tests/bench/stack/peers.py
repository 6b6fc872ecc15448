"""The peer endpoints of the full-stack benchmark (bench-only code, never in production).

Every form reads the public product list (`product_list(public=True)`: active products of
active categories, newest first, category joined, tags prefetched), pages it by `page` and
`page_size`, authenticates a bearer token if one is sent (simplejwt's authentication) and
counts each request in an anonymous rate throttle kept in the default cache.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django_filters.rest_framework import DjangoFilterBackend
from ninja import NinjaAPI, Schema
from ninja.pagination import PageNumberPagination as NinjaPageNumberPagination
from ninja.pagination import paginate
from ninja.throttling import AnonRateThrottle as NinjaAnonRateThrottle
from rest_framework import serializers
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTAuthentication

from apps.catalog.filters import ProductFilter
from apps.catalog.models import Product
from apps.catalog.selectors import product_list
from apps.catalog.serializers import ProductListSerializer
from apps.catalog.views import ProductViewSet
from apps.core.http.views import AppAPIView
from tests.bench.stack.settings import UNREFUSED_RATE


class UncachedProductViewSet(ProductViewSet):
    """The project's product list with its response cache off."""

    cache_responses = False


class CorePingView(AppAPIView):
    """A trivial endpoint on the core layer (the project's authentication and throttles)."""

    permission_classes = (AllowAny,)

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """`{"pong": true}`."""
        return Response({"pong": True})


class DrfPingView(APIView):
    """The same trivial endpoint in plain DRF, with the same policies."""

    authentication_classes = (JWTAuthentication,)
    permission_classes = (AllowAny,)
    throttle_classes = (AnonRateThrottle,)
    renderer_classes = (JSONRenderer,)

    def get(self, request: Request) -> Response:
        """`{"pong": true}`."""
        return Response({"pong": True})


class DrfProductSerializer(serializers.ModelSerializer[Product]):
    """The catalog's list fields through DRF's own ModelSerializer."""

    category = serializers.UUIDField(source="category_id")
    category_name = serializers.CharField(source="category.name")
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    final_price = serializers.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        model = Product
        fields = ProductListSerializer.Meta.fields


class DrfPagination(PageNumberPagination):
    """`?page=&page_size=` (at most 100), as the project's."""

    page_size_query_param = "page_size"
    max_page_size = 100


class DrfProductListView(ListAPIView[Product]):
    """The public product list in vanilla DRF, with the project's filters, search and
    ordering (django-filter's backend and DRF's own)."""

    filter_backends = (DjangoFilterBackend, SearchFilter, OrderingFilter)
    filterset_class = ProductFilter
    search_fields = ProductViewSet.search_fields
    ordering_fields = ProductViewSet.ordering_fields
    authentication_classes = (JWTAuthentication,)
    permission_classes = (AllowAny,)
    throttle_classes = (AnonRateThrottle,)
    renderer_classes = (JSONRenderer,)
    pagination_class = DrfPagination
    serializer_class = DrfProductSerializer

    def get_queryset(self) -> Any:
        """The catalog's public list selector."""
        return product_list(public=True)


class NinjaProduct(Schema):
    """The catalog's list fields as a django-ninja schema."""

    id: UUID
    name: str
    slug: str
    sku: str
    category: UUID
    category_name: str
    price: Decimal
    discount_percent: int
    final_price: Decimal
    stock: int
    is_active: bool
    tags: list[str]
    image: str | None
    version: int
    created_at: datetime

    @staticmethod
    def resolve_category(product: Product) -> Any:
        """The category's id."""
        return product.category_id

    @staticmethod
    def resolve_category_name(product: Product) -> str:
        """The category's name."""
        return product.category.name

    @staticmethod
    def resolve_tags(product: Product) -> list[str]:
        """The tag names, from the prefetched tags."""
        return [tag.name for tag in product.tags.all()]

    @staticmethod
    def resolve_image(product: Product) -> str | None:
        """The image URL, or null."""
        return product.image.url if product.image else None


ninja_api = NinjaAPI(urls_namespace="bench-ninja", throttle=[NinjaAnonRateThrottle(UNREFUSED_RATE)])


class NinjaPagination(NinjaPageNumberPagination):
    """`?page=&page_size=` (at most 100)."""


@ninja_api.get("/products", response=list[NinjaProduct])
@paginate(NinjaPagination, page_size=20, max_page_size=100)
def ninja_products(request: Any) -> Any:
    """The public product list in django-ninja."""
    return product_list(public=True)


@ninja_api.get("/ping")
def ninja_ping(request: Any) -> dict[str, bool]:
    """`{"pong": true}`."""
    return {"pong": True}
