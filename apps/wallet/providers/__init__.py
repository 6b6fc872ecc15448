"""Payment providers: the interface the wallet's top-ups use, and the adapters.

`provider_get(name)` returns the adapter configured under that name in `PAYMENT_PROVIDERS`
(`{"fake": "apps.wallet.providers.fake.FakeProvider"}` by default); `PAYMENT_PROVIDER` names
the one new top-ups use.
"""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string
from rest_framework.exceptions import NotFound

from apps.wallet.providers.base import (
    Checkout,
    PaymentProvider,
    ProviderEvent,
    ProviderPayment,
    ProviderPaymentStatus,
)

UNKNOWN_PROVIDER_MESSAGE = "Unknown payment provider."


@cache
def _provider_class(path: str) -> type[PaymentProvider]:
    """The adapter class at a dotted path (imported once)."""
    provider: type[PaymentProvider] = import_string(path)
    return provider


def provider_get(name: str | None = None) -> PaymentProvider:
    """The adapter named `name` (default: `PAYMENT_PROVIDER`); 404 for a name not configured."""
    name = name or settings.PAYMENT_PROVIDER
    path = settings.PAYMENT_PROVIDERS.get(name)
    if path is None:
        raise NotFound(UNKNOWN_PROVIDER_MESSAGE)
    return _provider_class(path)(name=name)


__all__ = [
    "Checkout",
    "PaymentProvider",
    "ProviderEvent",
    "ProviderPayment",
    "ProviderPaymentStatus",
    "provider_get",
]
