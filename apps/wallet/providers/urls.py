"""URLs of the fake provider's pages (mounted at /payments/fake/)."""

from django.urls import path

from apps.wallet.providers.pages import FakeCheckoutView

urlpatterns = [
    path("<str:reference>/", FakeCheckoutView.as_view(), name="wallet-fake-checkout"),
]
