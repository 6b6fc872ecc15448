"""URLs of /api/v1/orders/."""

from apps.core.http.routers import AppRouter
from apps.orders import views

router = AppRouter()
# Before the orders' empty prefix; OrderViewSet's ids are UUIDs, so `exports/` is never one.
router.register("exports", views.OrderExportViewSet, basename="orders-export")
router.register("", views.OrderViewSet, basename="orders-order")

urlpatterns = [*router.urls]
