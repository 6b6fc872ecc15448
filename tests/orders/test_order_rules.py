"""Orders: placing never oversells, the status flow, who sees what, filters in local days."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core import mail
from django.db import connection

from apps.catalog.models import Product
from apps.catalog.services import INSUFFICIENT_STOCK_MESSAGE, PRODUCT_UNAVAILABLE_MESSAGE
from apps.core.http.filters import UNKNOWN_TZ_MESSAGE
from apps.core.models import AuditLog, IdempotencyRecord
from apps.core.platform.ws.consumers import STAFF_GROUP, user_group
from apps.orders.models import Order, OrderStatus
from apps.orders.services import (
    DUPLICATE_PRODUCT_MESSAGE,
    INVALID_TRANSITION_MESSAGE,
    STAFF_ONLY_MESSAGE,
    order_mark_paid,
    orders_cancel_unpaid,
)
from tests import api_cases as api
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.envelope import assert_envelope, assert_error
from tests.factories import UserFactory
from tests.http import send_json
from tests.orders import factories as f

pytestmark = pytest.mark.django_db
FEATURE = "orders.orders"


def orders_url() -> str:
    """The collection."""
    return api.api_url("orders-order-list")


def order_url(order: Order, action: str | None = None) -> str:
    """One order, or one of its actions."""
    if action is None:
        return api.api_url("orders-order-detail", pk=order.pk)
    return api.api_url(f"orders-order-{action}", pk=order.pk)


def place(user: Any, payload: dict[str, Any], key: str | None = "fresh") -> Any:
    """POST /orders/ as `user` with an Idempotency-Key (a fresh one unless given)."""
    headers = {}
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = f.idempotency_key() if key == "fresh" else key
    return api.client_for(user).post(orders_url(), payload, format="json", **headers)


# --- placing an order ---------------------------------------------------------------------


def test_placing_an_order_takes_stock_fixes_prices_and_records_it(
    customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    cheap = ProductFactory(price=Decimal("10.00"), discount_percent=0, stock=5)
    sale = ProductFactory(price=Decimal("19.99"), discount_percent=15, stock=2)
    with django_capture_on_commit_callbacks(execute=True):
        response = place(customer, f.place_payload((cheap, 3), (sale, 2), note="ring twice"))

    data = assert_envelope(response, 201)["data"]
    assert data["number"].startswith("ORD-")
    assert len(data["number"]) == len("ORD-000001")
    assert data["status"] == "pending"
    assert data["customer"] == {
        "id": str(customer.pk),
        "email": customer.email,
        "name": customer.name,
    }
    assert [(i["sku"], i["unit_price"], i["quantity"], i["line_total"]) for i in data["items"]] == [
        (cheap.sku, "10.00", 3, "30.00"),
        (sale.sku, "16.99", 2, "33.98"),
    ]
    assert (data["subtotal"], data["total"], data["currency"]) == ("63.98", "63.98", "USD")
    assert data["note"] == "ring twice"
    assert data["shipping_address"]["country"] == "GB"
    assert data["version"] == 1
    assert Product.objects.get(pk=cheap.pk).stock == 2
    assert Product.objects.get(pk=sale.pk).stock == 0
    order = Order.objects.get(pk=data["id"])
    assert AuditLog.objects.filter(object_id=str(order.pk), action="create").count() == 1
    assert AuditLog.objects.filter(model="orders.orderitem", action="create").count() == 2
    stock_rows = AuditLog.objects.filter(model="catalog.product", action="update")
    assert {row.changes["stock"][1] for row in stock_rows} == {2, 0}
    assert [message.subject for message in mail.outbox] == [f"Your order {order.number}"]


def test_order_numbers_are_sequential(customer: Any) -> None:
    numbers = [
        assert_envelope(place(customer, f.place_payload((ProductFactory(), 1))), 201)["data"][
            "number"
        ]
        for _ in range(3)
    ]
    serials = [int(number.removeprefix("ORD-")) for number in numbers]
    assert serials == sorted(serials)
    assert len(set(serials)) == 3


def test_an_order_without_an_idempotency_key_is_400_and_writes_nothing(customer: Any) -> None:
    product = ProductFactory(stock=5)
    response = place(customer, f.place_payload((product, 1)), key=None)
    assert_error(response, 400, "idempotency_key_required")
    assert not Order.objects.exists()
    assert Product.objects.get(pk=product.pk).stock == 5


def test_a_retry_with_the_same_key_replays_the_order(customer: Any) -> None:
    product = ProductFactory(stock=5)
    first = place(customer, f.place_payload((product, 2)), key="checkout-1")
    again = place(customer, f.place_payload((product, 2)), key="checkout-1")
    assert assert_envelope(again, 201)["data"] == assert_envelope(first, 201)["data"]
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    assert Product.objects.get(pk=product.pk).stock == 3


def test_not_enough_stock_is_409_naming_the_sku_and_what_is_left(customer: Any) -> None:
    plenty, scarce = ProductFactory(stock=9), ProductFactory(stock=1, sku="LAST-ONE")
    response = place(customer, f.place_payload((plenty, 2), (scarce, 3)))
    body = assert_error(response, 409, "insufficient_stock", "items.1.quantity")
    assert body["errors"][0]["detail"] == INSUFFICIENT_STOCK_MESSAGE.format(sku="LAST-ONE", left=1)
    assert not Order.objects.exists()
    assert (Product.objects.get(pk=plenty.pk).stock, Product.objects.get(pk=scarce.pk).stock) == (
        9,
        1,
    )


def test_inactive_deleted_or_unknown_products_cannot_be_ordered(customer: Any) -> None:
    hidden = ProductFactory(is_active=False)
    in_hidden_category = ProductFactory(category=CategoryFactory(is_active=False))
    gone = ProductFactory()
    gone.delete()
    payload = f.place_payload((hidden, 1), (in_hidden_category, 1), (gone, 1))
    payload["items"].append({"product": "6f1c3a36-0000-4000-8000-000000000000", "quantity": 1})
    body = assert_envelope(place(customer, payload), 400)
    assert [(e["attr"], e["detail"]) for e in body["errors"]] == [
        (f"items.{index}.product", PRODUCT_UNAVAILABLE_MESSAGE) for index in range(4)
    ]
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("items", "attr"),
    [
        ([{"product": "not-a-uuid", "quantity": 1}], "items.0.product"),
        ([{"product": "6f1c3a36-0000-4000-8000-000000000000", "quantity": 0}], "items.0.quantity"),
        (
            [{"product": "6f1c3a36-0000-4000-8000-000000000000", "quantity": 101}],
            "items.0.quantity",
        ),
        (
            [{"product": "6f1c3a36-0000-4000-8000-000000000000", "quantity": "two"}],
            "items.0.quantity",
        ),
        ([], "items"),
        ("nothing", "items"),
    ],
)
def test_bad_lines_are_400_on_the_line(customer: Any, items: Any, attr: str) -> None:
    payload = {"items": items, "shipping_address": dict(f.ADDRESS)}
    assert attr in [e["attr"] for e in assert_envelope(place(customer, payload), 400)["errors"]]


def test_more_than_fifty_lines_or_a_repeated_product_is_400(customer: Any) -> None:
    product = ProductFactory(stock=100)
    too_many = {"items": [{"product": str(product.pk), "quantity": 1}] * 51,
                "shipping_address": dict(f.ADDRESS)}  # fmt: skip
    assert_error(place(customer, too_many), 400, "max_length", "items")
    twice = f.place_payload((product, 1), (product, 2))
    body = assert_error(place(customer, twice), 400, "invalid", "items.1.product")
    assert body["errors"][0]["detail"] == DUPLICATE_PRODUCT_MESSAGE.format(first=0)
    assert Product.objects.get(pk=product.pk).stock == 100


def test_a_bad_shipping_address_is_400_on_its_field(customer: Any) -> None:
    payload = f.place_payload((ProductFactory(), 1))
    payload["shipping_address"]["country"] = "Germany"
    assert_error(place(customer, payload), 400, "invalid", "shipping_address.country")


# --- who sees what ------------------------------------------------------------------------


def test_customers_see_their_own_orders_and_staff_see_all(customer: Any, staff: Any) -> None:
    mine, theirs = f.order(customer), f.order(UserFactory())
    listed = assert_envelope(api.client_for(customer).get(orders_url()), 200)["data"]
    assert [row["id"] for row in listed] == [str(mine.pk)]
    assert_error(api.client_for(customer).get(order_url(theirs)), 404, "not_found")
    assert_error(
        api.client_for(customer).post(order_url(theirs, "cancel"), {"version": 1}, format="json"),
        404,
        "not_found",
    )
    everything = assert_envelope(api.client_for(staff).get(orders_url()), 200)["data"]
    assert {row["id"] for row in everything} == {str(mine.pk), str(theirs.pk)}


# --- status flow --------------------------------------------------------------------------


def test_a_customer_cancels_a_pending_order_and_the_stock_comes_back(customer: Any) -> None:
    order = f.order(customer, quantity=3)
    product_id = order.items.get().product_id
    before = Product.objects.get(pk=product_id).stock
    response = api.client_for(customer).post(
        order_url(order, "cancel"), {"version": 1}, format="json"
    )
    data = assert_envelope(response, 200)["data"]
    assert (data["status"], data["version"]) == ("cancelled", 2)
    assert data["cancelled_at"] is not None
    assert Product.objects.get(pk=product_id).stock == before + 3
    again = api.client_for(customer).post(order_url(order, "cancel"), {"version": 2}, format="json")
    body = assert_error(again, 409, "invalid_transition")
    assert body["message"] == INVALID_TRANSITION_MESSAGE.format(
        current="cancelled", target="cancelled"
    )
    assert Product.objects.get(pk=product_id).stock == before + 3  # returned exactly once


def test_a_stale_version_is_409_and_changes_nothing(customer: Any) -> None:
    order = f.order(customer)
    response = api.client_for(customer).post(
        order_url(order, "cancel"), {"version": 7}, format="json"
    )
    assert_error(response, 409, "version_conflict")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING


def test_only_staff_cancel_a_paid_order(customer: Any, staff: Any) -> None:
    order = order_mark_paid(order=f.order(customer))
    refused = api.client_for(customer).post(
        order_url(order, "cancel"), {"version": order.version}, format="json"
    )
    body = assert_error(refused, 409, "invalid_transition")
    assert body["message"] == STAFF_ONLY_MESSAGE.format(target="cancelled")
    done = api.client_for(staff).post(
        order_url(order, "cancel"), {"version": order.version}, format="json"
    )
    assert assert_envelope(done, 200)["data"]["status"] == "cancelled"


def test_staff_ship_and_deliver_and_the_table_refuses_the_rest(customer: Any, staff: Any) -> None:
    order = f.order(customer)
    client = api.client_for(staff)
    skipped = client.post(order_url(order, "status"), {"status": "shipped", "version": 1})
    assert_error(skipped, 409, "invalid_transition")
    order = order_mark_paid(order=order)
    version = order.version
    for target in ("shipped", "delivered"):
        data = assert_envelope(
            client.post(order_url(order, "status"), {"status": target, "version": version}), 200
        )["data"]
        assert data["status"] == target
        version = data["version"]
    final = client.post(order_url(order, "status"), {"status": "cancelled", "version": version})
    assert_error(final, 409, "invalid_transition")


def test_customers_may_not_use_the_status_endpoint(customer: Any) -> None:
    order = f.order(customer)
    response = api.client_for(customer).post(
        order_url(order, "status"), {"status": "shipped", "version": 1}, format="json"
    )
    assert_error(response, 403, "permission_denied")


def test_events_reach_staff_on_placing_and_the_customer_on_each_change(
    customer: Any, staff: Any, django_capture_on_commit_callbacks: Any
) -> None:
    layer = get_channel_layer()
    staff_channel = async_to_sync(layer.new_channel)()
    customer_channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(STAFF_GROUP, staff_channel)
    async_to_sync(layer.group_add)(user_group(customer.pk), customer_channel)

    def next_event(channel: str) -> dict[str, Any]:
        message = async_to_sync(asyncio.wait_for)(layer.receive(channel), 2)
        return dict(message["event"])

    with django_capture_on_commit_callbacks(execute=True):
        created = assert_envelope(place(customer, f.place_payload((ProductFactory(), 1))), 201)
    event = next_event(staff_channel)
    assert (event["type"], event["data"]["id"]) == ("order.created", created["data"]["id"])
    order = Order.objects.get(pk=created["data"]["id"])
    with django_capture_on_commit_callbacks(execute=True):
        api.client_for(customer).post(order_url(order, "cancel"), {"version": 1}, format="json")
    event = next_event(customer_channel)
    assert (event["type"], event["data"]["status"]) == ("order.status_changed", "cancelled")


def test_unpaid_orders_are_cancelled_after_the_timeout_with_their_stock(customer: Any) -> None:
    old, recent = f.order(customer, quantity=2), f.order(customer, quantity=2)
    Order.objects.filter(pk=old.pk).update(created_at=old.created_at - timedelta(minutes=31))
    product_id = old.items.get().product_id
    before = Product.objects.get(pk=product_id).stock

    assert orders_cancel_unpaid() == 1
    assert orders_cancel_unpaid() == 0  # safe to run twice

    assert Order.objects.get(pk=old.pk).status == OrderStatus.CANCELLED
    assert Order.objects.get(pk=recent.pk).status == OrderStatus.PENDING
    assert Product.objects.get(pk=product_id).stock == before + 2


# --- filters ------------------------------------------------------------------------------


def test_local_days_in_tokyo_include_2330_and_exclude_0030_next_day(staff: Any) -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    late, next_morning = f.order(), f.order()
    Order.objects.filter(pk=late.pk).update(created_at=datetime(2026, 3, 10, 23, 30, tzinfo=tokyo))
    Order.objects.filter(pk=next_morning.pk).update(
        created_at=datetime(2026, 3, 11, 0, 30, tzinfo=tokyo)
    )
    query = "?created_from=2026-03-10&created_to=2026-03-10&tz=Asia/Tokyo"
    rows = assert_envelope(api.client_for(staff).get(orders_url() + query), 200)["data"]
    assert [row["id"] for row in rows] == [str(late.pk)]
    in_utc = "?created_from=2026-03-10&created_to=2026-03-10"  # both are on 10 March in UTC
    rows = assert_envelope(api.client_for(staff).get(orders_url() + in_utc), 200)["data"]
    assert {row["id"] for row in rows} == {str(late.pk), str(next_morning.pk)}


def test_bad_filters_are_400_on_the_filter(staff: Any) -> None:
    client = api.client_for(staff)
    body = assert_error(client.get(orders_url() + "?tz=Mars/Olympus"), 400, "invalid", "tz")
    assert body["errors"][0]["detail"] == UNKNOWN_TZ_MESSAGE
    assert_error(
        client.get(orders_url() + "?created_from=yesterday"), 400, "invalid", "created_from"
    )
    assert_error(
        client.get(orders_url() + "?created_from=2026-03-11&created_to=2026-03-10"),
        400,
        "invalid",
        "created_to",
    )
    assert_error(client.get(orders_url() + "?status=lost"), 400, "invalid_choice", "status")


def test_status_search_ordering_and_cursor_pages(customer: Any, staff: Any) -> None:
    small, big = f.order(customer, quantity=1), f.order(customer, quantity=4)
    order_mark_paid(order=big)
    client = api.client_for(staff)
    paid = assert_envelope(client.get(orders_url() + "?status=paid"), 200)["data"]
    assert [row["id"] for row in paid] == [str(big.pk)]
    found = assert_envelope(client.get(f"{orders_url()}?search={small.number}"), 200)["data"]
    assert [row["id"] for row in found] == [str(small.pk)]
    by_total = assert_envelope(client.get(orders_url() + "?ordering=total"), 200)["data"]
    assert [row["id"] for row in by_total] == [str(small.pk), str(big.pk)]
    page = assert_envelope(client.get(orders_url() + "?pagination=cursor&page_size=1"), 200)
    assert set(page["meta"]["pagination"]) == {"next", "previous"}
    assert [row["id"] for row in page["data"]] == [str(big.pk)]


# --- concurrency (PostgreSQL) -------------------------------------------------------------


def post_all(url: str, bodies: list[Any], headers: list[dict[str, str]]) -> list[int]:
    """POST every body at once (released together by a barrier); their statuses."""
    barrier = threading.Barrier(len(bodies))

    def fire(index: int) -> int:
        barrier.wait()
        return send_json(url, bodies[index], headers=headers[index])

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(fire, range(len(bodies))))


def bearer_headers(user: Any, key: str | None = None) -> dict[str, str]:
    """Authorization and an Idempotency-Key (fresh unless given)."""
    return {"Authorization": api.bearer(user), "Idempotency-Key": key or f.idempotency_key()}


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_twenty_buyers_of_the_last_five_never_oversell(live_server: Any) -> None:
    assert connection.vendor == "postgresql"
    product = ProductFactory(stock=5)
    buyers = [UserFactory() for _ in range(20)]
    for buyer in buyers:
        api.grant(buyer, FEATURE, ("create", "retrieve"), scope="own")
    statuses = post_all(
        f"{live_server.url}{orders_url()}",
        [f.place_payload((product, 1)) for _ in buyers],
        [bearer_headers(buyer) for buyer in buyers],
    )
    assert sorted(statuses) == [201] * 5 + [409] * 15
    assert Product.objects.get(pk=product.pk).stock == 0
    assert Order.objects.count() == 5


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_carts_holding_two_products_in_opposite_orders_both_finish(live_server: Any) -> None:
    first, second = ProductFactory(stock=50), ProductFactory(stock=50)
    buyers = [UserFactory() for _ in range(8)]
    for buyer in buyers:
        api.grant(buyer, FEATURE, ("create", "retrieve"), scope="own")
    bodies = [
        f.place_payload((first, 1), (second, 1))
        if index % 2
        else f.place_payload((second, 1), (first, 1))
        for index in range(len(buyers))
    ]
    statuses = post_all(
        f"{live_server.url}{orders_url()}", bodies, [bearer_headers(b) for b in buyers]
    )
    assert statuses == [201] * len(buyers)
    assert (Product.objects.get(pk=first.pk).stock, Product.objects.get(pk=second.pk).stock) == (
        42,
        42,
    )


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_one_key_sent_ten_times_at_once_places_one_order(live_server: Any) -> None:
    buyer = UserFactory()
    api.grant(buyer, FEATURE, ("create", "retrieve"), scope="own")
    product = ProductFactory(stock=10)
    headers = bearer_headers(buyer, key="same-checkout")
    statuses = post_all(
        f"{live_server.url}{orders_url()}",
        [f.place_payload((product, 1))] * 10,
        [headers] * 10,
    )
    assert Order.objects.count() == 1
    assert Product.objects.get(pk=product.pk).stock == 9
    assert IdempotencyRecord.objects.count() == 1
    assert set(statuses) <= {201, 409}
    assert statuses.count(201) >= 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_parallel_cancels_return_the_stock_once(live_server: Any) -> None:
    buyer = UserFactory()
    api.grant(buyer, FEATURE, ("create", "retrieve", "update"), scope="own")
    order = f.order(buyer, quantity=4)
    product_id = order.items.get().product_id
    before = Product.objects.get(pk=product_id).stock
    statuses = post_all(
        f"{live_server.url}{order_url(order, 'cancel')}",
        [{"version": 1}] * 6,
        [{"Authorization": api.bearer(buyer)}] * 6,
    )
    assert sorted(statuses) == [200] + [409] * 5
    assert Product.objects.get(pk=product_id).stock == before + 4


@pytest.mark.parametrize("action", ["cancel", "status"])
def test_order_actions_refuse_anonymous_callers_and_bad_input(
    action: str, customer: Any, staff: Any
) -> None:
    order = f.order(customer)
    url = order_url(order, action)
    assert_error(
        api.client_for(None).post(url, {"version": 1}, format="json"), 401, "not_authenticated"
    )
    caller = api.client_for(customer if action == "cancel" else staff)
    assert_error(caller.post(url, {}, format="json"), 400, "required", "version")
    assert_error(caller.post(url, {"version": "one"}, format="json"), 400, "invalid", "version")
    if action == "status":
        body = {"status": "paid", "version": 1}  # paid comes from the wallet, not this endpoint
        assert_error(caller.post(url, body, format="json"), 400, "invalid_choice", "status")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING
    assert_error(caller.get(url), 405, "method_not_allowed")
