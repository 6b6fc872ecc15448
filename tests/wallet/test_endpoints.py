"""The wallet endpoints through the generic endpoint tests."""

from typing import Any

import pytest

from apps.accounts.models import User
from apps.orders import views as order_views
from apps.wallet import views
from apps.wallet.models import LedgerTransaction, TopUp
from tests import api_cases as api
from tests.factories import UserFactory
from tests.orders import factories as orders
from tests.wallet import factories as f

pytestmark = pytest.mark.django_db


class TestWalletEndpoint(api.Action):
    """`GET /wallet/`: the caller's balance."""

    url_name = "wallet"
    view = views.WalletAPIView
    method = "get"

    def call(self, user: User | None, url: str, payload: Any) -> Any:
        return self.client_for(user).get(url)


class TestWalletTransactionsEndpoint(api.List):
    """`GET /wallet/transactions/`: the caller's movements (own wallet whatever the scope)."""

    url_name = "wallet-transaction"
    view = views.WalletTransactionViewSet

    def make(self, owner: Any) -> LedgerTransaction:
        posted = f.funded(owner, "10.00").ledger_transaction
        assert posted is not None
        return posted


class TestTopUpEndpoint(api.Retrieve, api.Create):
    """Top-ups: create needs an Idempotency-Key (the generic cases send one)."""

    url_name = "wallet-top-up"
    view = views.TopUpViewSet
    invalid_payload = {"amount": "0"}
    invalid_attr = "amount"

    def make(self, owner: Any) -> TopUp:
        return f.top_up(owner)

    def create_payload(self) -> dict[str, Any]:
        return {"amount": "25.00"}


class TestTransferEndpoint(api.Action):
    """`POST /wallet/transfers/`: 201 with the transfer; the amount is checked."""

    url_name = "wallet-transfers"
    view = views.TransferAPIView
    success_status = 201
    invalid_payload = {"to": "someone@example.com", "amount": "1.001"}
    invalid_attr = "amount"

    def prepare(self, user: User | None) -> str:
        if user is not None:
            f.funded(user, "50.00")
        self.recipient = UserFactory()
        return self.url

    def call_payload(self) -> dict[str, Any]:
        return {"to": self.recipient.email, "amount": "12.50", "note": "lunch"}


class TestOrderPayEndpoint(api.Action):
    """`POST /orders/{id}/pay/`: the customer pays a pending order from their wallet."""

    url_name = "orders-order-pay"
    view = order_views.OrderViewSet

    def prepare(self, user: User | None) -> str:
        order = orders.order(user or UserFactory())
        if user is not None:
            f.funded(user, str(order.total))
        return api.api_url("orders-order-pay", pk=order.pk)


class TestProviderWebhookEndpoint(api.Action):
    """`POST /wallet/webhooks/fake/`: anonymous, proven by the signature of the raw body."""

    url_name = "wallet-webhook"
    view = views.ProviderWebhookAPIView
    invalid_payload = {"id": "evt_1", "type": "payment.succeeded"}  # signed, but no data
    invalid_attr = None  # the body as a whole: the error has no field

    def prepare(self, user: User | None) -> str:
        self.pending = f.top_up(UserFactory())
        return api.api_url("wallet-webhook", provider="fake")

    def call_payload(self) -> bytes:
        return f.event_body(self.pending)

    def call(self, user: User | None, url: str, payload: Any) -> Any:
        body = payload if isinstance(payload, bytes) else f.json_bytes(payload)
        return self.client_for(user).generic(
            "POST", url, body, content_type="application/json", **f.signed_meta(body)
        )
