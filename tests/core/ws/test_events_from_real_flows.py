"""Every declared notification event, driven by the real flow that emits it (REST calls through
the test client, sockets through config.asgi): the socket gets exactly `{"type", "data",
"at"}`, `data` matches the event's declaration, and only the sockets it is declared for get
it. The chat socket's frames match theirs too. A declared event no flow here drives fails
`test_every_declared_event_is_driven_by_a_flow`."""

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import pytest
from channels.db import database_sync_to_async as db
from channels.testing import WebsocketCommunicator
from jsonschema import Draft202012Validator, FormatChecker
from rest_framework_simplejwt.tokens import AccessToken

from apps.catalog.notifications import PRODUCTS_FEATURE
from apps.core.platform.ws.events import declared_endpoints, declared_event, declared_events
from apps.core.platform.ws.events import serializer_json_schema as schema_of
from apps.core.records.services import object_save
from config.asgi import application
from tests import api_cases as api
from tests.catalog.factories import CategoryFactory, ProductFactory, product_payload
from tests.chat import factories as chat
from tests.core.factories import FeatureFactory, RoleFactory, RolePermissionFactory
from tests.factories import UserFactory
from tests.orders import factories as orders
from tests.wallet import factories as wallet

pytestmark = pytest.mark.django_db(transaction=True)
F = TypeVar("F", bound=Callable[..., Any])
ORDERS = "orders.orders"
CHAT_PATH = "/ws/chat/{room_id}/"


def covers(*names: str) -> Callable[[F], F]:
    """Mark a test as driving these events (the coverage test reads it)."""

    def mark(test: F) -> F:
        test.covers = names  # type: ignore[attr-defined]
        return test

    return mark


def token(user: Any) -> str:
    return str(AccessToken.for_user(user))


async def notifications(user: Any) -> WebsocketCommunicator:
    """An open `/ws/notifications/` socket of `user`."""
    socket = WebsocketCommunicator(application, f"/ws/notifications/?token={token(user)}")
    connected, _ = await socket.connect(timeout=3)
    assert connected
    return socket


def valid(instance: Any, schema: dict[str, Any]) -> None:
    """`instance` matches `schema` (formats checked)."""
    Draft202012Validator(schema, format_checker=FormatChecker()).validate(instance)


async def expect(socket: WebsocketCommunicator, name: str) -> Any:
    """The next frame is event `name`, exactly `{"type", "data", "at"}`, its data as declared;
    answers the data."""
    frame = await socket.receive_json_from(timeout=5)
    assert set(frame) == {"type", "data", "at"}
    assert frame["type"] == name
    assert datetime.fromisoformat(frame["at"]).tzinfo is not None
    valid(frame["data"], schema_of(declared_event(name).data))
    return frame["data"]


async def nothing(*sockets: WebsocketCommunicator) -> None:
    """None of the sockets got a frame."""
    for socket in sockets:
        assert await socket.receive_nothing(timeout=0.3)


async def close(*sockets: WebsocketCommunicator) -> None:
    for socket in sockets:
        await socket.disconnect()


def call(user: Any, method: str, url: str, body: Any = None, **headers: Any) -> Any:
    """A REST call as `user` (sync, for `db(...)`); answers the envelope's body."""
    client = api.client_for(user)
    response = getattr(client, method)(url, body, format="json", **headers)
    assert response.status_code < 300, response.content
    return response.json()["data"]


def editor_role(code: str) -> Any:
    """A role that may write products."""
    role = RoleFactory(code=code)
    RolePermissionFactory(
        role=role,
        feature=FeatureFactory(code=PRODUCTS_FEATURE),
        can_create=True,
        can_update=True,
        can_delete=True,
    )
    return role


# --- catalog, accounts, RBAC -----------------------------------------------------------------


@covers("product.changed")
async def test_product_writes_reach_catalog_editors_and_superusers_only() -> None:
    editor, reader = await db(UserFactory)(), await db(UserFactory)()
    superuser = await db(UserFactory)(is_superuser=True)
    await db(api.grant)(editor, PRODUCTS_FEATURE)
    await db(api.grant)(reader, PRODUCTS_FEATURE, ("retrieve",))
    category = await db(CategoryFactory)()
    editor_ws, super_ws, reader_ws = [await notifications(u) for u in (editor, superuser, reader)]

    created = await db(call)(
        editor, "post", api.api_url("catalog-product-list"), product_payload(category.pk)
    )
    detail = api.api_url("catalog-product-detail", pk=created["id"])
    updated = await db(call)(
        editor, "patch", detail, {"name": "Renamed", "version": created["version"]}
    )
    await db(call)(editor, "delete", detail)
    for socket in (editor_ws, super_ws):
        seen = [await expect(socket, "product.changed") for _ in range(3)]
        assert [data["action"] for data in seen] == ["create", "update", "delete"]
        assert all(data["products"][0]["id"] == created["id"] for data in seen)
        versions = [data["products"][0]["version"] for data in seen]
        assert versions[:2] == [created["version"], updated["version"]]
        assert versions[2] > versions[1]  # a soft delete moves the version on too
    await nothing(editor_ws, super_ws, reader_ws)
    await close(editor_ws, super_ws, reader_ws)


@covers("profile.updated")
async def test_a_profile_change_reaches_the_users_own_sockets_only() -> None:
    user, other = await db(UserFactory)(), await db(UserFactory)()
    phone, laptop, others = (
        await notifications(user),
        await notifications(user),
        await notifications(other),
    )
    me = api.api_url("accounts:me")
    answer = await db(call)(user, "patch", me, {"name": "Ada King"})
    for socket in (phone, laptop):
        assert await expect(socket, "profile.updated") == answer
    assert answer["name"] == "Ada King"

    def admin_change() -> None:  # the Django admin saves through object_save
        user.refresh_from_db()
        user.is_staff = True
        object_save(instance=user)

    await db(admin_change)()
    data = await expect(phone, "profile.updated")
    assert data["id"] == str(user.pk)
    await expect(laptop, "profile.updated")
    await nothing(phone, laptop, others)
    await close(phone, laptop, others)


@covers("roles.changed")
async def test_a_role_change_reaches_the_user_and_moves_their_sockets_between_audiences() -> None:
    admin = await db(UserFactory)(is_staff=True)
    superuser = await db(UserFactory)(is_superuser=True)
    target = await db(UserFactory)()
    role = await db(editor_role)("ws-editor")
    category = await db(CategoryFactory)()
    socket = await notifications(target)
    roles_url = api.api_url("rbac-user-roles", user_id=target.pk)
    products = api.api_url("catalog-product-list")

    await db(call)(admin, "put", roles_url, {"roles": ["ws-editor"]})
    assert await expect(socket, "roles.changed") == {"roles": [role.code]}
    # Now a catalog editor: this very socket gets product events.
    created = await db(call)(superuser, "post", products, product_payload(category.pk))
    assert (await expect(socket, "product.changed"))["products"][0]["id"] == created["id"]

    await db(call)(admin, "put", roles_url, {"roles": []})
    assert await expect(socket, "roles.changed") == {"roles": []}
    await db(call)(superuser, "post", products, product_payload(category.pk))
    await db(call)(admin, "put", roles_url, {"roles": []})  # no change: no event
    await nothing(socket)
    await close(socket)


# --- orders, wallet, chat --------------------------------------------------------------------


@covers("order.created", "order.status_changed")
async def test_placing_reaches_staff_and_a_status_change_reaches_the_customer() -> None:
    customer, staff = await db(UserFactory)(), await db(UserFactory)(is_staff=True)
    await db(api.grant)(customer, ORDERS, ("create", "retrieve", "update"), scope="own")
    product = await db(ProductFactory)(stock=5)
    staff_ws, customer_ws = await notifications(staff), await notifications(customer)

    key = {"HTTP_IDEMPOTENCY_KEY": orders.idempotency_key()}
    placed = await db(call)(
        customer,
        "post",
        api.api_url("orders-order-list"),
        orders.place_payload((product, 2)),
        **key,
    )
    created = await expect(staff_ws, "order.created")
    assert (created["id"], created["status"], created["total"]) == (
        placed["id"],
        "pending",
        placed["total"],
    )
    cancel = api.api_url("orders-order-cancel", pk=placed["id"])
    await db(call)(customer, "post", cancel, {"version": placed["version"]})
    changed = await expect(customer_ws, "order.status_changed")
    assert (changed["id"], changed["status"]) == (placed["id"], "cancelled")
    await nothing(staff_ws, customer_ws)
    await close(staff_ws, customer_ws)


@covers("export.progress")
async def test_an_export_reports_its_progress_to_the_requester() -> None:
    customer = await db(UserFactory)()
    await db(api.grant)(customer, ORDERS, ("create", "retrieve", "update"), scope="own")
    await db(orders.order)(customer)
    socket = await notifications(customer)
    export = await db(call)(customer, "post", api.api_url("orders-export-list"), {"format": "csv"})
    statuses = []
    while not statuses or statuses[-1] not in ("done", "failed"):
        data = await expect(socket, "export.progress")
        assert data["id"] == export["id"]
        statuses.append(data["status"])
    assert statuses[-1] == "done"
    await close(socket)


@covers("wallet.updated")
async def test_a_transfer_reaches_both_wallet_owners() -> None:
    member, other = await db(UserFactory)(), await db(UserFactory)()
    for user in (member, other):
        await db(api.grant)(user, wallet.FEATURE, ("create", "retrieve"), scope="own")
    await db(wallet.funded)(member, "50.00")
    member_ws, other_ws = await notifications(member), await notifications(other)
    key = {"HTTP_IDEMPOTENCY_KEY": wallet.idempotency_key()}
    body = {"to": other.email, "amount": "12.50"}
    await db(call)(member, "post", api.api_url("wallet-transfers"), body, **key)
    mine = await expect(member_ws, "wallet.updated")
    theirs = await expect(other_ws, "wallet.updated")
    assert (mine["balance"], theirs["balance"]) == ("37.50", "12.50")
    wallet_now = await db(call)(other, "get", api.api_url("wallet"))
    assert theirs == wallet_now
    await nothing(member_ws, other_ws)
    await close(member_ws, other_ws)


@covers("chat.unread")
async def test_a_message_reaches_the_other_members_unread_count() -> None:
    alice, bob = await db(chat.chatter)(), await db(chat.chatter)()
    room = await db(chat.direct)(alice, bob)
    alice_ws, bob_ws = await notifications(alice), await notifications(bob)
    messages = api.api_url("chat-message-list", room_pk=room.pk)
    await db(call)(alice, "post", messages, {"body": "hello"})
    assert await expect(bob_ws, "chat.unread") == {"room_id": str(room.pk), "unread_count": 1}
    await nothing(alice_ws, bob_ws)
    await close(alice_ws, bob_ws)


def test_every_declared_event_is_driven_by_a_flow() -> None:
    driven = {name for test in globals().values() for name in getattr(test, "covers", ())}
    assert {event.name for event in declared_events()} == driven


# --- the chat socket's frames -----------------------------------------------------------------


async def test_the_chat_sockets_frames_match_their_declarations() -> None:
    chat_socket = next(e for e in declared_endpoints() if e.path == CHAT_PATH)
    server = {f.type: schema_of(f.body) for f in chat_socket.server_frames}
    client = {f.type: schema_of(f.body, sent_by_server=False) for f in chat_socket.client_frames}
    alice, bob = await db(chat.chatter)(name="Alice"), await db(chat.chatter)(name="Bob")
    room = await db(chat.direct)(alice, bob)
    path = CHAT_PATH.format(room_id=room.pk)
    sockets = []
    for user in (alice, bob):
        socket = WebsocketCommunicator(application, f"{path}?token={token(user)}")
        assert (await socket.connect(timeout=3))[0]
        sockets.append(socket)
    alice_ws, bob_ws = sockets

    async def server_frame(socket: WebsocketCommunicator, kind: str) -> dict[str, Any]:
        frame = await socket.receive_json_from(timeout=5)
        assert frame["type"] == kind
        valid({k: v for k, v in frame.items() if k != "type"}, server[kind])
        return dict(frame)

    sent = {"body": "hi", "client_id": "c-1"}
    valid(sent, client["message.send"])
    await alice_ws.send_json_to({"type": "message.send", **sent})
    new = await server_frame(bob_ws, "message.new")
    await server_frame(alice_ws, "message.new")
    await bob_ws.send_json_to({"type": "typing"})
    await server_frame(alice_ws, "typing")
    read = {"message_id": new["message"]["id"]}
    valid(read, client["read"])
    await bob_ws.send_json_to({"type": "read", **read})
    await server_frame(alice_ws, "read")
    await server_frame(bob_ws, "read")
    await alice_ws.send_json_to({"type": "message.send", "body": ""})
    await server_frame(alice_ws, "error")
    message = api.api_url("chat-message-detail", room_pk=room.pk, pk=new["message"]["id"])
    await db(call)(alice, "delete", message)
    await server_frame(bob_ws, "message.deleted")
    await close(alice_ws, bob_ws)
