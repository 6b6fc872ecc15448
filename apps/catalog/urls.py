"""URLs of /api/v1/catalog/."""

from django.urls import path

from apps.catalog import views
from apps.core.http.routers import AppRouter

router = AppRouter()
router.register("categories", views.CategoryViewSet, basename="catalog-category")
router.register("tags", views.TagViewSet, basename="catalog-tag")
router.register("products", views.ProductViewSet, basename="catalog-product")
router.register("banners", views.BannerViewSet, basename="catalog-banner")

urlpatterns = [
    path(
        "products/<uuid:pk>/image/",
        views.ProductImageUploadAPIView.as_view(),
        name="catalog-product-image",
    ),
    path(
        "banners/<uuid:pk>/image/",
        views.BannerImageUploadAPIView.as_view(),
        name="catalog-banner-image",
    ),
    *router.urls,
]
