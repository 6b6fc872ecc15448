"""URLs of /api/v1/wallet/."""

from django.urls import path

from apps.core.http.routers import AppRouter
from apps.wallet import views

router = AppRouter()
router.register("transactions", views.WalletTransactionViewSet, basename="wallet-transaction")
router.register("top-ups", views.TopUpViewSet, basename="wallet-top-up")

urlpatterns = [
    path("", views.WalletAPIView.as_view(), name="wallet"),
    path("transfers/", views.TransferAPIView.as_view(), name="wallet-transfers"),
    path(
        "webhooks/<slug:provider>/",
        views.ProviderWebhookAPIView.as_view(),
        name="wallet-webhook",
    ),
    *router.urls,
]
