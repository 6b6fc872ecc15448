"""URLs of /api/v1/orders/."""

from apps.core.http.routers import AppRouter
from apps.orders import views

router = AppRouter()
router.register("", views.OrderViewSet, basename="orders-order")

urlpatterns = [*router.urls]
