"""WebSockets: JWT auth (accepted, then closed with 4401), expiry, origins (4403),
notify_user, no token in logs."""

import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from apps.core.platform.ws.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHORIZED
from apps.core.platform.ws.notify import notify_user
from config.asgi import application
from tests.factories import UserFactory
from tests.processes import asgi_server

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[3]
PATH = "/ws/notifications/"


def access(user: Any, lifetime: timedelta | None = None) -> str:
    token = AccessToken.for_user(user)
    if lifetime is not None:
        token.set_exp(lifetime=lifetime)
    return str(token)


WALLET = {
    "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "currency": "EUR",
    "balance": "4.20",
    "updated_at": "2025-01-31T12:00:00Z",
}
ORDER = {
    "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "number": "ORD-000001",
    "status": "pending",
    "total": "9.90",
    "currency": "EUR",
    "version": 1,
}


async def refused_with(path: str, **kwargs: Any) -> int:
    """The code a refused connection is closed with, after it was accepted (so a browser
    sees the code)."""
    communicator = WebsocketCommunicator(application, path, **kwargs)
    connected, _ = await communicator.connect()
    assert connected, "a refused socket is accepted first, then closed"
    closing = await communicator.receive_output(timeout=2)
    assert closing["type"] == "websocket.close"
    await communicator.send_input({"type": "websocket.disconnect", "code": closing["code"]})
    await communicator.wait()
    return int(closing["code"])


async def connect(path: str, **kwargs: Any) -> tuple[WebsocketCommunicator, bool, Any]:
    communicator = WebsocketCommunicator(application, path, **kwargs)
    connected, detail = await communicator.connect()
    if not connected:  # the server closed it: say goodbye so the application ends by itself
        await communicator.send_input({"type": "websocket.disconnect", "code": detail})
        await communicator.wait()
    return communicator, connected, detail


async def test_a_connection_without_a_token_is_accepted_then_closed_with_4401() -> None:
    assert await refused_with(PATH) == CLOSE_UNAUTHORIZED


@pytest.mark.parametrize("kind", ["garbage", "expired", "inactive", "refresh"])
async def test_a_bad_token_is_accepted_then_closed_with_4401(kind: str) -> None:
    user = await sync_to_async(UserFactory)(is_active=kind != "inactive")
    if kind == "garbage":
        token = "not-a-jwt"
    elif kind == "expired":
        token = access(user, lifetime=-timedelta(seconds=1))
    elif kind == "refresh":
        from rest_framework_simplejwt.tokens import RefreshToken

        token = await sync_to_async(lambda: str(RefreshToken.for_user(user)))()
    else:
        token = access(user)
    assert await refused_with(f"{PATH}?token={token}") == CLOSE_UNAUTHORIZED


async def test_a_valid_token_receives_only_its_own_users_events() -> None:
    alice, bob = await sync_to_async(UserFactory)(), await sync_to_async(UserFactory)()
    alice_ws, ok_a, _ = await connect(f"{PATH}?token={access(alice)}")
    bob_ws, ok_b, _ = await connect(f"{PATH}?token={access(bob)}")
    assert ok_a and ok_b
    await sync_to_async(notify_user)(alice.pk, "wallet.updated", WALLET)
    frame = await alice_ws.receive_json_from(timeout=2)
    assert set(frame) == {"type", "data", "at"}
    assert (frame["type"], frame["data"]) == ("wallet.updated", WALLET)
    assert datetime.fromisoformat(frame["at"]).tzinfo is not None
    assert await bob_ws.receive_nothing(timeout=0.3)
    await alice_ws.disconnect()
    await bob_ws.disconnect()


async def test_the_token_may_come_as_a_bearer_subprotocol() -> None:
    user = await sync_to_async(UserFactory)()
    ws, connected, subprotocol = await connect(PATH, subprotocols=["bearer", access(user)])
    assert connected
    assert subprotocol == "bearer"
    await ws.disconnect()


async def test_an_open_socket_is_closed_when_its_token_expires() -> None:
    user = await sync_to_async(UserFactory)()
    ws, connected, _ = await connect(f"{PATH}?token={access(user, lifetime=timedelta(seconds=1))}")
    assert connected
    closing = await ws.receive_output(timeout=3)
    assert closing == {"type": "websocket.close", "code": CLOSE_UNAUTHORIZED}
    await ws.disconnect()


async def test_browser_origins_outside_the_allowed_list_are_refused(settings: Any) -> None:
    user = await sync_to_async(UserFactory)()
    path = f"{PATH}?token={access(user)}"
    evil = [(b"origin", b"https://evil.example.org")]
    assert await refused_with(path, headers=evil) == CLOSE_FORBIDDEN
    ws, local, _ = await connect(path, headers=[(b"origin", b"http://localhost")])
    assert local is True
    await ws.disconnect()
    ws, native, _ = await connect(path)  # a native app sends no Origin
    assert native is True
    await ws.disconnect()


async def test_tokens_never_reach_the_logs(logs: Any) -> None:
    user = await sync_to_async(UserFactory)()
    token = access(user)
    ws, connected, _ = await connect(f"{PATH}?token={token}")
    assert connected
    await ws.disconnect()
    await connect(f"{PATH}?token={token}x")
    assert token not in logs.text()


@pytest.mark.services
def test_an_event_sent_from_this_process_reaches_a_client_of_another_server_process() -> None:
    """daphne serves the socket in a subprocess; notify_user here goes through channels-redis."""
    import websockets.sync.client as ws_client

    user = UserFactory()
    with asgi_server() as port:
        url = f"ws://127.0.0.1:{port}{PATH}?token={access(user)}"
        with ws_client.connect(url, open_timeout=5) as client:
            time.sleep(0.3)  # the consumer joins its group before accepting; be generous
            notify_user(user.pk, "wallet.updated", WALLET)
            frame = json.loads(client.recv(timeout=5))
            assert (frame["type"], frame["data"]) == ("wallet.updated", WALLET)


async def test_a_revoked_access_token_is_closed_with_4401() -> None:
    from apps.core.platform.revocation import access_token_revoke

    user = await sync_to_async(UserFactory)()
    token = AccessToken.for_user(user)
    await sync_to_async(access_token_revoke)(jti=token["jti"], expires_at=token["exp"])
    assert await refused_with(f"{PATH}?token={token}") == CLOSE_UNAUTHORIZED


async def test_notify_on_commit_sends_after_commit_and_never_for_a_rollback() -> None:
    import asyncio

    from channels.layers import get_channel_layer
    from django.db import transaction

    from apps.core.platform.ws.consumers import user_group
    from apps.core.platform.ws.notify import notify_user_on_commit

    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(user_group("u-1"), channel)

    def rolled_back() -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            notify_user_on_commit("u-1", "wallet.updated", {**WALLET, "balance": "1.00"})
            raise RuntimeError("rolled back")

    def committed() -> None:
        with transaction.atomic():
            notify_user_on_commit("u-1", "wallet.updated", {**WALLET, "balance": "2.00"})

    await sync_to_async(rolled_back)()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(layer.receive(channel), 0.3)
    await sync_to_async(committed)()
    message = await asyncio.wait_for(layer.receive(channel), 2)
    event = message["event"]
    assert (event["type"], event["data"]["balance"]) == ("wallet.updated", "2.00")


async def test_staff_events_reach_staff_sockets_only() -> None:
    from apps.core.platform.ws.notify import notify_staff

    staff, customer = (
        await sync_to_async(UserFactory)(is_staff=True),
        await sync_to_async(UserFactory)(),
    )
    staff_ws, ok_staff, _ = await connect(f"{PATH}?token={access(staff)}")
    customer_ws, ok_customer, _ = await connect(f"{PATH}?token={access(customer)}")
    assert ok_staff and ok_customer
    await sync_to_async(notify_staff)("order.created", ORDER)
    frame = await staff_ws.receive_json_from(timeout=2)
    assert (frame["type"], frame["data"]) == ("order.created", ORDER)
    assert await customer_ws.receive_nothing(timeout=0.3)
    await staff_ws.disconnect()
    await customer_ws.disconnect()


async def test_notify_users_sends_each_user_their_own_data_in_one_call() -> None:
    from apps.core.platform.ws.notify import notify_users

    alice, bob = await sync_to_async(UserFactory)(), await sync_to_async(UserFactory)()
    alice_ws, _, _ = await connect(f"{PATH}?token={access(alice)}")
    bob_ws, _, _ = await connect(f"{PATH}?token={access(bob)}")
    room = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    one, two = {"room_id": room, "unread_count": 1}, {"room_id": room, "unread_count": 2}
    await sync_to_async(notify_users)("chat.unread", [(alice.pk, one), (bob.pk, two)])
    assert (await alice_ws.receive_json_from(timeout=2))["data"] == one
    assert (await bob_ws.receive_json_from(timeout=2))["data"] == two
    assert await alice_ws.receive_nothing(timeout=0.2)
    await alice_ws.disconnect()
    await bob_ws.disconnect()


async def test_open_sockets_close_when_their_tokens_are_revoked() -> None:
    """Review of issue 12: a socket stayed open after logout or a password change until its
    token expired. Logout closes the sockets of that token; revoking all closes every one."""
    from apps.core.platform.revocation import access_token_revoke, user_access_tokens_revoke

    user = await sync_to_async(UserFactory)()
    phone_token, laptop_token = AccessToken.for_user(user), AccessToken.for_user(user)
    phone, ok_phone, _ = await connect(f"{PATH}?token={phone_token}")
    laptop, ok_laptop, _ = await connect(f"{PATH}?token={laptop_token}")
    assert ok_phone and ok_laptop
    await sync_to_async(access_token_revoke)(
        jti=phone_token["jti"], expires_at=phone_token["exp"], user_id=user.pk
    )
    assert await phone.receive_output(timeout=3) == {
        "type": "websocket.close",
        "code": CLOSE_UNAUTHORIZED,
    }
    assert await laptop.receive_nothing(timeout=0.3)
    await sync_to_async(user_access_tokens_revoke)(user_id=user.pk)
    assert await laptop.receive_output(timeout=3) == {
        "type": "websocket.close",
        "code": CLOSE_UNAUTHORIZED,
    }
