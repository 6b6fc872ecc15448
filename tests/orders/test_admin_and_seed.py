"""Orders in the Django admin (status moves through the service), the demo seed, and the
list's query budget at 1, 20 and 100 rows."""

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, reverse_lazy

from apps.catalog.models import Product
from apps.core.models import AuditLog
from apps.orders.models import Order, OrderStatus
from apps.orders.services import order_mark_paid
from tests import api_cases as api
from tests.envelope import assert_envelope
from tests.factories import UserFactory
from tests.orders import factories as f

pytestmark = pytest.mark.django_db
ORDERS_ADMIN = reverse_lazy("admin:orders_order_changelist")


def test_the_admin_lists_searches_and_filters_orders(admin_client: Client) -> None:
    order = f.order(UserFactory(email="buyer@example.com"))
    for query in ("", f"?q={order.number}", "?q=buyer@example.com", "?status__exact=pending"):
        response = admin_client.get(f"{ORDERS_ADMIN}{query}")
        assert response.status_code == 200
        assert order.number.encode() in response.content
    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert page.status_code == 200
    assert order.items.get().sku.encode() in page.content


def test_admin_actions_move_orders_through_the_service(admin_client: Client) -> None:
    paid = order_mark_paid(order=f.order())
    pending = f.order(quantity=2)
    product_id = pending.items.get().product_id
    stock = Product.objects.get(pk=product_id).stock

    admin_client.post(
        ORDERS_ADMIN, {"action": "mark_shipped", "_selected_action": [paid.pk, pending.pk]}
    )
    admin_client.post(ORDERS_ADMIN, {"action": "mark_cancelled", "_selected_action": [pending.pk]})

    assert Order.objects.get(pk=paid.pk).status == OrderStatus.SHIPPED
    assert Order.objects.get(pk=pending.pk).status == OrderStatus.CANCELLED  # not shipped
    assert Product.objects.get(pk=product_id).stock == stock + 2
    moves = AuditLog.objects.filter(model="orders.order", action="update")
    assert moves.filter(object_id=str(paid.pk)).count() == 2  # paid, then shipped
    assert moves.get(object_id=str(pending.pk)).actor.email == "root@example.com"


def test_orders_cannot_be_added_or_deleted_in_the_admin(admin_client: Client) -> None:
    order = f.order()
    assert admin_client.get(reverse("admin:orders_order_add")).status_code == 403
    delete = reverse("admin:orders_order_delete", args=[order.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert Order.objects.filter(pk=order.pk).exists()


def test_the_seed_gives_the_demo_customer_one_order_in_each_status(
    settings: Any, tmp_path: Any
) -> None:
    settings.BASE_DIR = tmp_path
    call_command("seed", stdout=io.StringIO())
    call_command("seed", stdout=io.StringIO())  # a second run changes nothing
    orders = Order.objects.filter(customer__email="customer@example.com")
    assert sorted(orders.values_list("status", flat=True)) == sorted(OrderStatus.values)


@pytest.mark.parametrize("rows", [1, 20, 100])
def test_the_list_stays_within_its_query_budget(rows: int) -> None:
    staff = UserFactory()
    api.grant(staff, "orders.orders", ("retrieve",), scope="all")
    customer = UserFactory()
    for _ in range(rows):
        f.order(customer, products=2)
    client = api.client_for(staff)
    url = api.api_url("orders-order-list") + "?page_size=100"
    client.get(url)  # warm the permission cache
    with CaptureQueriesContext(connection) as queries:
        body = assert_envelope(client.get(url), 200)
    assert len(body["data"]) == rows
    assert len(queries) <= 4, [query["sql"] for query in queries.captured_queries]
