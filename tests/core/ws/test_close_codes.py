"""Refused WebSocket connections through the real ASGI stack: accepted first, then closed
with a code a browser can act on (4401 refresh, 4403 forbidden, 4404 unknown path), and
an unknown path never raises (no 500, no traceback)."""

from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async as db
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from apps.core.platform.ws.consumers import CLOSE_FORBIDDEN, CLOSE_NOT_FOUND, CLOSE_UNAUTHORIZED
from config.asgi import application
from tests import api_cases as api
from tests.factories import UserFactory
from tests.processes import asgi_server

pytestmark = pytest.mark.django_db(transaction=True)
ROOM = f"/ws/chat/{api.UNKNOWN_ID}/"
UNKNOWN_PATHS = (
    "/ws/nothing-here/",
    "/ws/notifications",  # no trailing slash
    "/ws/notifications/extra/",
    "/",
    "/api/v1/catalog/products/",
)


def token(user: Any, lifetime: timedelta | None = None) -> str:
    access = AccessToken.for_user(user)
    if lifetime is not None:
        access.set_exp(lifetime=lifetime)
    return str(access)


async def closing(path: str, **kwargs: Any) -> tuple[Any, int]:
    """Connect; assert the socket was accepted; answer `(chosen subprotocol, close code)`."""
    communicator = WebsocketCommunicator(application, path, **kwargs)
    accepted, subprotocol = await communicator.connect(timeout=3)
    assert accepted, "a refused connection is accepted first, so a browser sees the code"
    message = await communicator.receive_output(timeout=3)
    assert message["type"] == "websocket.close"
    await communicator.send_input({"type": "websocket.disconnect", "code": message["code"]})
    await communicator.wait()
    return subprotocol, int(message["code"])


@pytest.mark.parametrize("path", ["/ws/notifications/", ROOM])
@pytest.mark.parametrize("kind", ["missing", "garbage", "expired"])
async def test_every_socket_accepts_then_closes_with_4401_without_a_valid_token(
    path: str, kind: str
) -> None:
    user = await db(UserFactory)()
    query = {
        "missing": "",
        "garbage": "?token=not-a-jwt",
        "expired": f"?token={token(user, -timedelta(seconds=1))}",
    }[kind]
    assert await closing(f"{path}{query}") == (None, CLOSE_UNAUTHORIZED)


async def test_a_bad_bearer_subprotocol_is_answered_with_bearer_then_4401() -> None:
    """A browser that offered subprotocols fails a handshake answered without one of them
    (1006): the refusal must still select `bearer`."""
    assert await closing("/ws/notifications/", subprotocols=["bearer", "not-a-jwt"]) == (
        "bearer",
        CLOSE_UNAUTHORIZED,
    )


async def test_a_non_member_is_accepted_then_closed_with_4403() -> None:
    user = await db(UserFactory)()
    assert await closing(f"{ROOM}?token={token(user)}") == (None, CLOSE_FORBIDDEN)


async def test_a_browser_from_a_foreign_origin_is_accepted_then_closed_with_4403() -> None:
    user = await db(UserFactory)()
    headers = [(b"origin", b"https://evil.example.org")]
    path = f"/ws/notifications/?token={token(user)}"
    assert await closing(path, headers=headers) == (None, CLOSE_FORBIDDEN)


@pytest.mark.parametrize("path", UNKNOWN_PATHS)
@pytest.mark.parametrize("signed_in", [False, True])
async def test_an_unknown_path_is_accepted_then_closed_with_4404_and_logs_no_error(
    path: str, signed_in: bool, logs: Any
) -> None:
    user = await db(UserFactory)()
    query = f"?token={token(user)}" if signed_in else ""
    assert await closing(f"{path}{query}", subprotocols=["bearer"]) == ("bearer", CLOSE_NOT_FOUND)
    errors = [r for r in logs.records() if r.get("level") in ("error", "critical")]
    assert errors == []
    assert "Traceback" not in logs.text()


@pytest.mark.services
def test_a_real_client_of_a_real_server_sees_the_codes() -> None:
    """Through daphne, as a browser would: the close frame carries 4401 / 4404 (a refusal
    before the handshake would be an HTTP 403, which a browser reports as 1006)."""
    import websockets.sync.client as ws_client
    from websockets.exceptions import ConnectionClosed

    def code_of(url: str) -> int | None:
        with ws_client.connect(url, open_timeout=5) as client:
            try:
                client.recv(timeout=5)
            except ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None
        return None

    with asgi_server() as port:
        base = f"ws://127.0.0.1:{port}"
        assert code_of(f"{base}/ws/notifications/") == CLOSE_UNAUTHORIZED
        assert code_of(f"{base}/ws/notifications/?token=expired.or.garbage") == CLOSE_UNAUTHORIZED
        assert code_of(f"{base}/ws/no-such-socket/") == CLOSE_NOT_FOUND
