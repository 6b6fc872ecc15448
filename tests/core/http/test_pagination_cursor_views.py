"""Cursor pages of the lists ordered by time, through the API: orders, chat rooms, the audit
log, wallet transactions and chat messages (stable while rows arrive, bad cursors a 400)."""

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

from apps.core.models import AuditLog
from apps.orders.models import Order
from tests import api_cases as api
from tests.chat import factories as chat
from tests.core.factories import AuditLogFactory
from tests.envelope import assert_envelope, assert_error
from tests.factories import UserFactory
from tests.orders import factories as orders

pytestmark = pytest.mark.django_db


def ids(body: dict[str, Any]) -> list[str]:
    """The ids of a page."""
    return [row["id"] for row in body["data"]]


@pytest.fixture
def staff() -> Any:
    """Sees every order."""
    user = UserFactory()
    api.grant(user, "orders.orders")
    return user


def test_order_cursor_pages_do_not_shift_when_orders_arrive(staff: Any) -> None:
    for _ in range(4):
        orders.order()
    client = api.client_for(staff)
    url = api.api_url("orders-order-list")
    first = assert_envelope(client.get(url, {"pagination": "cursor", "page_size": 2}), 200)
    newest_first = [
        str(pk)
        for pk in Order.objects.order_by("-created_at", "-serial").values_list("pk", flat=True)
    ]
    assert ids(first) == newest_first[:2]
    orders.order()  # a new order: it would push page 2 of page numbers by one
    second = assert_envelope(client.get(first["meta"]["pagination"]["next"]), 200)
    assert ids(second) == newest_first[2:4]
    assert second["meta"]["pagination"]["next"] is None
    again = assert_envelope(client.get(second["meta"]["pagination"]["previous"]), 200)
    assert ids(again) == newest_first[:2]


def test_order_cursor_pages_by_total_break_ties_by_id(staff: Any) -> None:
    for _ in range(5):
        orders.order()  # equal totals
    client = api.client_for(staff)
    seen: list[str] = []
    link: str | None = (
        api.api_url("orders-order-list") + "?pagination=cursor&page_size=2&ordering=total"
    )
    while link:
        body = assert_envelope(client.get(link), 200)
        seen += ids(body)
        link = body["meta"]["pagination"]["next"]
    expected = Order.objects.order_by("total", "pk").values_list("pk", flat=True)
    assert seen == [str(pk) for pk in expected]


def test_chat_rooms_come_in_cursor_pages_on_request() -> None:
    me = chat.chatter()
    rooms = [chat.group(me, name=f"Room {n}") for n in range(3)]
    client = api.client_for(me)
    url = api.api_url("chat-room-list")
    default = assert_envelope(client.get(url), 200)
    assert "count" in default["meta"]["pagination"]
    first = assert_envelope(client.get(url, {"pagination": "cursor", "page_size": 2}), 200)
    assert set(first["meta"]["pagination"]) == {"next", "previous"}
    second = assert_envelope(client.get(first["meta"]["pagination"]["next"]), 200)
    assert sorted(ids(first) + ids(second)) == sorted(str(room.pk) for room in rooms)
    assert_error(client.get(url, {"cursor": "nope"}), 400, "invalid", "cursor")


def test_audit_wallet_and_message_cursors_refuse_a_bad_cursor_with_a_400() -> None:
    admin = UserFactory(is_staff=True)
    AuditLogFactory()
    assert_error(
        api.client_for(admin).get(api.api_url("audit-log-list"), {"cursor": "x"}),
        400,
        "invalid",
        "cursor",
    )
    me = chat.chatter()
    room = chat.group(me)
    chat.message(room, me)
    messages = api.api_url("chat-message-list", room_pk=room.pk)
    assert_error(api.client_for(me).get(messages, {"cursor": "x"}), 400, "invalid", "cursor")


def test_audit_log_pages_do_not_shift_when_rows_are_written() -> None:
    admin = UserFactory(is_staff=True)
    for _ in range(4):
        AuditLogFactory()
    client = api.client_for(admin)
    url = api.api_url("audit-log-list")
    first = assert_envelope(client.get(url, {"page_size": 2}), 200)
    newest = [
        str(pk)
        for pk in AuditLog.objects.order_by("-created_at", "-id").values_list("pk", flat=True)
    ]
    AuditLogFactory()
    second = assert_envelope(client.get(first["meta"]["pagination"]["next"]), 200)
    assert ids(first) + ids(second) == newest[:4]


def test_the_schema_documents_the_switch_and_the_cursor() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path in ("/api/v1/catalog/products/", "/api/v1/orders/", "/api/v1/chat/rooms/"):
        parameters = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert {"page", "page_size", "pagination", "cursor"} <= set(parameters), path
        assert parameters["pagination"]["schema"]["enum"] == ["page", "cursor"]
