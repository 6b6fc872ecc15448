"""WebSocket consumers of the core layer, and the close codes every socket uses.

A refused connection is accepted first and then closed with its code: a close before the
handshake completes reaches a browser as a failed connection (1006), with no code to act on.
"""

import asyncio
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer
from django.contrib.auth import get_user_model

from apps.core.platform.ws.auth import BEARER_SUBPROTOCOL
from apps.core.platform.ws.events import (
    SocketEndpoint,
    declared_audiences,
    socket_audience,
    socket_endpoint,
)
from apps.core.platform.ws.sessions import sessions_group

CLOSE_UNAUTHORIZED = 4401  # like HTTP 401: no valid token, or it expired or was revoked
CLOSE_FORBIDDEN = 4403  # like HTTP 403: authenticated (or not yet), but not admitted here
CLOSE_NOT_FOUND = 4404  # like HTTP 404: no socket at this path
# What each code means and what a client does about it (docs/websockets.md shows this).
CLOSE_CODES: dict[int, tuple[str, str]] = {
    CLOSE_UNAUTHORIZED: (
        "The access token is missing, invalid, expired or revoked (also sent to an open "
        "socket when its token expires or is revoked by logout or a password change).",
        "Refresh the access token (`POST /api/v1/auth/refresh/`) and reconnect with the new "
        "one; when the refresh fails, sign in again.",
    ),
    CLOSE_FORBIDDEN: (
        "The token is fine but this socket is not yours to open (not a member of the chat "
        "room, removed from it while connected), or the page's origin is not allowed.",
        "Do not retry with the same token: a new token changes nothing.",
    ),
    CLOSE_NOT_FOUND: (
        "No socket lives at this path (a typo, a missing trailing slash, an old URL).",
        "Fix the URL; retrying changes nothing.",
    ),
}
STAFF_GROUP = "staff"  # every staff user's notification sockets


def user_group(user_id: Any) -> str:
    """The channel-layer group of one user's notification sockets."""
    return f"user.{user_id}"


def chosen_subprotocol(scope: dict[str, Any]) -> str | None:
    """`bearer` when the client offered it: a browser that offered subprotocols fails a
    handshake answered without one of them."""
    return BEARER_SUBPROTOCOL if BEARER_SUBPROTOCOL in (scope.get("subprotocols") or []) else None


STAFF = socket_audience(
    group=STAFF_GROUP,
    description="Staff users (`is_staff`).",
    admits=lambda user: bool(user.is_staff),
)


class ClosingConsumer(AsyncWebsocketConsumer):
    """Accepts, then closes at once with `close_code` (404 by default): the answer to an
    unknown path and to a refused origin. Never raises, so nothing is logged as an error."""

    close_code = CLOSE_NOT_FOUND

    def __init__(self, *args: Any, close_code: int = CLOSE_NOT_FOUND, **kwargs: Any) -> None:
        """`close_code`: what the connection is closed with (`as_asgi(close_code=...)`)."""
        super().__init__(*args, **kwargs)
        self.close_code = close_code

    async def connect(self) -> None:
        """Accept, so the client sees the code, and close."""
        await self.accept(subprotocol=chosen_subprotocol(self.scope))
        await self.close(code=self.close_code)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Frames sent before the close arrived are dropped."""


class AppJsonWebsocketConsumer(AsyncJsonWebsocketConsumer):
    """Authenticated JSON consumer: accepts and closes anonymous connections with 4401, and
    closes with 4401 when the access token expires while the socket is open.

    Hooks: `on_authenticated(user)` joins groups before the socket is accepted, or answers a
    close code to refuse it (sent after accepting, so a browser sees the code, e.g. 4403);
    `on_accepted()` sends what must come before any group message (a catch-up). Every socket
    also closes with 4401 when its token is revoked (logout of that token, or all of the
    user's tokens on a password change).
    """

    _expiry: asyncio.Task[None] | None = None
    _sessions: str | None = None

    async def connect(self) -> None:
        """Accept; keep only an authenticated user the subclass admits; start the expiry
        timer."""
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.accept(subprotocol=chosen_subprotocol(self.scope))
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self._sessions = sessions_group(user.pk)
        await self.channel_layer.group_add(self._sessions, self.channel_name)
        refusal = await self.on_authenticated(user)
        await self.accept(subprotocol=chosen_subprotocol(self.scope))
        if refusal is not None:
            await self.close(code=refusal)
            return
        expires_at = self.scope.get("token_expires_at")
        if expires_at:
            self._expiry = asyncio.ensure_future(self._close_at(expires_at))
        await self.on_accepted()

    async def on_authenticated(self, user: Any) -> int | None:
        """Hook: join groups before the socket is accepted; a close code refuses it."""
        return None

    async def on_accepted(self) -> None:
        """Hook: the first frames, sent before any group message is delivered."""

    async def _close_at(self, expires_at: int) -> None:
        """Close the socket when its token expires."""
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        await self.close(code=CLOSE_UNAUTHORIZED)

    async def disconnect(self, code: int) -> None:
        """Stop the expiry timer; stop listening for revocations."""
        if self._expiry is not None:
            self._expiry.cancel()
        if self._sessions is not None:
            await self.channel_layer.group_discard(self._sessions, self.channel_name)
            self._sessions = None

    async def session_revoked(self, message: dict[str, Any]) -> None:
        """The user's tokens (all, or this socket's) were revoked: close with 4401."""
        jti = message.get("jti")
        if jti is None or jti == self.scope.get("token_jti"):
            await self.close(code=CLOSE_UNAUTHORIZED)


def notification_groups(user_id: Any) -> list[str]:
    """The groups a user's notification socket belongs to: their own, and every declared
    audience that admits them (read fresh from the database)."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return [user_group(user_id)]
    return [user_group(user_id), *(a.group for a in declared_audiences() if a.admits(user))]


class NotificationsConsumer(AppJsonWebsocketConsumer):
    """`/ws/notifications/`: events for the connected user and the audiences they belong to,
    each `{"type": "<event>", "data": {...}, "at": "<ISO time>"}`."""

    groups_joined: tuple[str, ...] = ()
    user_id: Any = None

    async def on_authenticated(self, user: Any) -> int | None:
        """Join the user's group and their audiences' groups (staff, catalog editors...)."""
        self.user_id = user.pk
        await self._regroup()
        return None

    async def _regroup(self) -> None:
        """Join the groups the user belongs to now; leave those they no longer do."""
        wanted = tuple(await database_sync_to_async(notification_groups)(self.user_id))
        for group in set(wanted) - set(self.groups_joined):
            await self.channel_layer.group_add(group, self.channel_name)
        for group in set(self.groups_joined) - set(wanted):
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined = wanted

    async def disconnect(self, code: int) -> None:
        """Leave the groups."""
        await super().disconnect(code)
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined = ()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Clients send nothing on this socket; a frame (JSON or not) is ignored."""

    async def notify_event(self, message: dict[str, Any]) -> None:
        """Deliver one event sent by `notify_*`. One that may change the user's audiences
        (roles, profile) re-checks them first: once a client has it, the events of its new
        audiences reach it."""
        if message.get("regroup"):
            await self._regroup()
        await self.send_json(message["event"])


socket_endpoint(
    SocketEndpoint(
        path="/ws/notifications/",
        description=(
            "Events for the signed-in user: their own (orders, wallet, chat, profile, roles) "
            "and those of the audiences they belong to (staff, catalog editors). Audiences are "
            "chosen when the socket connects and checked again after a `roles.changed` or "
            "`profile.updated` event. The client sends nothing; frames it sends are ignored."
        ),
        close_codes=(CLOSE_UNAUTHORIZED, CLOSE_FORBIDDEN, CLOSE_NOT_FOUND),
        carries_events=True,
    ),
    declared_in=__name__,
)
