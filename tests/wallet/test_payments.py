"""Order payment from the wallet, and the refund of a cancelled paid order."""

from decimal import Decimal
from typing import Any

import pytest

from apps.orders.models import Order
from apps.wallet.models import LedgerTransaction, SystemAccount
from apps.wallet.services import system_account
from tests import api_cases as api
from tests.envelope import assert_envelope, assert_error
from tests.factories import UserFactory
from tests.orders import factories as orders
from tests.wallet import factories as f

pytestmark = pytest.mark.django_db
ORDERS = "orders.orders"


@pytest.fixture
def customer(member: Any) -> Any:
    """A wallet user who may place and pay their own orders."""
    api.grant(member, ORDERS, ("create", "retrieve", "update"), scope="own")
    return member


def pay(user: Any, order: Order, key: str | None = None) -> Any:
    """POST /orders/{id}/pay/ as `user`."""
    client = api.client_for(user, idempotency_key=key or f.idempotency_key())
    return client.post(api.api_url("orders-order-pay", pk=order.pk))


def revenue() -> Decimal:
    return system_account(SystemAccount.ORDER_REVENUE).balance


def test_paying_debits_the_wallet_credits_revenue_and_marks_the_order_paid(customer: Any) -> None:
    order = orders.order(customer)
    f.funded(customer, str(order.total + Decimal("1.00")))
    data = assert_envelope(pay(customer, order), 200)["data"]
    assert (data["status"], data["version"]) == ("paid", 2)
    assert data["paid_at"] is not None
    assert f.balance(customer) == Decimal("1.00")
    assert revenue() == order.total
    posted = LedgerTransaction.objects.get(kind="payment")
    assert posted.reference == f"order:{order.number}"
    assert_error(pay(customer, order), 409, "invalid_transition")  # another key: not twice
    assert f.balance(customer) == Decimal("1.00")


def test_without_enough_money_the_order_stays_pending(customer: Any) -> None:
    order = orders.order(customer)
    f.funded(customer, str(order.total - Decimal("0.01")))
    assert_error(pay(customer, order), 409, "insufficient_funds")
    order.refresh_from_db()
    assert (order.status, order.version) == ("pending", 1)
    assert revenue() == Decimal("0.00")


def test_someone_elses_order_is_404_and_staff_cannot_spend_a_customers_money(
    customer: Any, other: Any
) -> None:
    order = orders.order(customer)
    f.funded(customer, str(order.total))
    api.grant(other, ORDERS, ("retrieve", "update"), scope="own")
    assert_error(pay(other, order), 404, "not_found")
    staff = UserFactory()
    api.grant(staff, ORDERS, ("retrieve", "update"), scope="all")
    api.grant(staff, f.FEATURE, ("create", "retrieve"), scope="own")
    assert_error(pay(staff, order), 403, "permission_denied")
    assert Order.objects.get(pk=order.pk).status == "pending"


def test_cancelling_a_paid_order_refunds_it_once(customer: Any) -> None:
    order = orders.order(customer)
    f.funded(customer, str(order.total))
    pay(customer, order)
    staff = UserFactory()
    api.grant(staff, ORDERS, ("retrieve", "update"), scope="all")
    client = api.client_for(staff)
    url = api.api_url("orders-order-cancel", pk=order.pk)
    assert assert_envelope(client.post(url, {"version": 2}), 200)["data"]["status"] == "cancelled"
    assert f.balance(customer) == order.total
    assert revenue() == Decimal("0.00")
    assert LedgerTransaction.objects.filter(kind="refund").count() == 1
    assert_error(client.post(url, {"version": 3}), 409, "invalid_transition")
    assert LedgerTransaction.objects.filter(kind="refund").count() == 1


def test_cancelling_an_unpaid_order_posts_nothing(customer: Any) -> None:
    order = orders.order(customer)
    client = api.client_for(customer)
    client.post(api.api_url("orders-order-cancel", pk=order.pk), {"version": 1})
    assert not LedgerTransaction.objects.exists()


def test_a_free_order_is_paid_without_moving_money(customer: Any) -> None:
    order = orders.order(customer)
    Order.objects.filter(pk=order.pk).update(subtotal=0, total=0)
    order.refresh_from_db()
    assert assert_envelope(pay(customer, order), 200)["data"]["status"] == "paid"
    assert not LedgerTransaction.objects.filter(kind="payment").exists()
