"""WebSocket consumers of the core layer."""

import asyncio
import time
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.core.platform.ws.auth import BEARER_SUBPROTOCOL
from apps.core.platform.ws.sessions import sessions_group

CLOSE_UNAUTHORIZED = 4401  # like HTTP 401: no valid token, or it expired while open
CLOSE_FORBIDDEN = 4403  # like HTTP 403: authenticated, but this socket is not theirs to open
STAFF_GROUP = "staff"  # every staff user's notification sockets


def user_group(user_id: Any) -> str:
    """The channel-layer group of one user's connections."""
    return f"user.{user_id}"


class AppJsonWebsocketConsumer(AsyncJsonWebsocketConsumer):
    """Authenticated JSON consumer: refuses anonymous connections with 4401 before accepting,
    and closes with 4401 when the access token expires while the socket is open.

    Hooks: `on_authenticated(user)` joins groups before the socket is accepted, or answers a
    close code to refuse it (sent after accepting, so a browser sees the code, e.g. 4403);
    `on_accepted()` sends what must come before any group message (a catch-up). Every socket
    also closes with 4401 when its token is revoked (logout of that token, or all of the
    user's tokens on a password change).
    """

    _expiry: asyncio.Task[None] | None = None
    _sessions: str | None = None

    async def connect(self) -> None:
        """Accept only an authenticated user the subclass admits; start the expiry timer."""
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self._sessions = sessions_group(user.pk)
        await self.channel_layer.group_add(self._sessions, self.channel_name)
        refusal = await self.on_authenticated(user)
        subprotocols = self.scope.get("subprotocols") or []
        chosen = BEARER_SUBPROTOCOL if BEARER_SUBPROTOCOL in subprotocols else None
        await self.accept(subprotocol=chosen)
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


class NotificationsConsumer(AppJsonWebsocketConsumer):
    """`/ws/notifications/`: events for the connected user (and, for staff, staff events),
    each `{"type": "<event>", "data": {...}, "at": "<ISO time>"}`."""

    groups_joined: tuple[str, ...] = ()

    async def on_authenticated(self, user: Any) -> int | None:
        """Join the user's group, and the staff group for staff."""
        self.groups_joined = (user_group(user.pk), *((STAFF_GROUP,) if user.is_staff else ()))
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        return None

    async def disconnect(self, code: int) -> None:
        """Leave the groups."""
        await super().disconnect(code)
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def notify_event(self, message: dict[str, Any]) -> None:
        """Deliver one event sent by `notify_user` or `notify_staff`."""
        await self.send_json(message["event"])
