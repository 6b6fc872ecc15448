"""`/ws/chat/{room_id}/`: a member's live view of a room (DESIGN.md: Chat).

Members only (others are closed with 4403); `?after=<message id>` first sends what was missed,
in order, then live frames. Every message of the room numbered after the socket's starting
point reaches it exactly once and in order: the socket remembers the last number it sent,
skips what it already sent, and fills a gap from the database when broadcasts from different
server processes overtake each other. Client frames go through the same services as REST. A
bad frame is answered with an `error` frame and the socket stays open; the socket closes
(4403) when its user is removed from the room and (4401) when its token expires.
"""

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings
from rest_framework.exceptions import APIException, NotFound, ValidationError

from apps.chat import events
from apps.chat.models import Message
from apps.chat.presence import (
    PRESENCE_REFRESH_SECONDS,
    presence_enter,
    presence_leave,
    presence_refresh,
)
from apps.chat.selectors import (
    message_list_after,
    message_seq_in_room,
    room_is_member,
    room_seq_for_member,
)
from apps.chat.serializers import MessageSendSerializer, ReadSerializer
from apps.chat.services import message_send, room_mark_read
from apps.core.platform.context import ActorContext, set_actor_context
from apps.core.platform.ws.consumers import CLOSE_FORBIDDEN, AppJsonWebsocketConsumer

T = TypeVar("T")
CATCH_UP_BATCH = 200
PARSE_ERROR = ("parse_error", "Frames are JSON objects with a `type`.")
UNKNOWN_TYPE = ("invalid", "Unknown frame type; use message.send, typing or read.")
THROTTLED = ("throttled", "Too many messages on this socket; slow down.")
TOO_MANY_MISSED = "More than {limit} messages were missed; read the rest over REST with ?after="


def first_error(exc: APIException) -> tuple[str, str]:
    """`(code, detail)` of the first error of a DRF exception, `attr: ` before the detail."""
    detail: Any = exc.detail
    codes: Any = exc.get_codes()
    attr = None
    while isinstance(detail, dict | list):
        if isinstance(detail, dict):
            attr = next(iter(detail))
            detail, codes = detail[attr], codes[attr]
        else:
            detail, codes = detail[0], codes[0]
    prefix = f"{attr}: " if attr and attr != "non_field_errors" else ""
    return str(codes), f"{prefix}{detail}"


class ChatConsumer(AppJsonWebsocketConsumer):
    """One member's socket on one room."""

    room_id: str
    user: Any
    start_seq: int = 0  # the socket sends every message numbered after this one
    last_seq_sent: int = 0
    _heartbeat: asyncio.Task[None] | None = None
    _joined: bool = False

    async def on_authenticated(self, user: Any) -> int | None:
        """Members join the room's group before the socket opens; others get 4403.

        The room's latest number is read before joining and membership checked again after,
        so neither a message committed meanwhile nor a removal committed meanwhile is missed.
        """
        self.user = user
        self.room_id = str(self.scope["url_route"]["kwargs"]["room_id"])
        self.sent_at: deque[float] = deque()
        self.typed_at = float("-inf")
        self.replayed: set[str] = set()
        latest = await database_sync_to_async(room_seq_for_member)(
            room_id=self.room_id, user_id=user.pk
        )
        if latest is None:
            return CLOSE_FORBIDDEN
        await self.channel_layer.group_add(events.room_group(self.room_id), self.channel_name)
        self._joined = True
        if not await self._still_member():
            await self._leave_group()
            return CLOSE_FORBIDDEN
        self.start_seq = self.last_seq_sent = latest
        return None

    async def _still_member(self) -> bool:
        """True while the user is a member of the room."""
        return bool(
            await database_sync_to_async(room_is_member)(room_id=self.room_id, user_id=self.user.pk)
        )

    async def on_accepted(self) -> None:
        """Count the socket as present, then send what was missed: after `?after=`, or what
        was committed while the socket was joining."""
        await database_sync_to_async(presence_enter)(room_id=self.room_id, user_id=self.user.pk)
        self._heartbeat = asyncio.ensure_future(self._keep_present())
        query = parse_qs(self.scope.get("query_string", b"").decode(errors="replace"))
        if query.get("after"):
            try:
                self.start_seq = self.last_seq_sent = await database_sync_to_async(
                    message_seq_in_room
                )(room_id=self.room_id, message_id=query["after"][0], attr="after")
            except ValidationError as exc:
                await self.send_json(events.error_frame(*first_error(exc)))
        await self._catch_up()

    async def _catch_up(self) -> None:
        """`message.new` for each message after the last one sent, oldest first (bounded)."""
        seq = self.last_seq_sent
        limit = settings.CHAT_CATCH_UP_MAX_MESSAGES
        sent = 0
        while sent < limit:
            batch = await database_sync_to_async(self._missed)(
                seq, min(CATCH_UP_BATCH, limit - sent)
            )
            for message in batch:
                await self.send_json(events.message_new_frame(message))
            if not batch:
                return
            seq = self.last_seq_sent = batch[-1].seq
            sent += len(batch)
        if await database_sync_to_async(self._missed)(seq, 1):
            detail = TOO_MANY_MISSED.format(limit=limit) + str(batch[-1].pk)
            await self.send_json(events.error_frame("too_many_missed", detail))
            # The rest is the client's to read over REST; live frames go on from the newest.
            latest = await database_sync_to_async(room_seq_for_member)(
                room_id=self.room_id, user_id=self.user.pk
            )
            self.last_seq_sent = max(self.last_seq_sent, latest or 0)

    def _missed(self, after_seq: int, count: int) -> list[Message]:
        """Up to `count` messages after `after_seq`, oldest first."""
        return list(message_list_after(room_id=self.room_id, after_seq=after_seq)[:count])

    async def _keep_present(self) -> None:
        """Refresh the presence count while the socket is open; close (4403) should the
        membership be gone without its removal reaching this socket."""
        while True:
            await asyncio.sleep(PRESENCE_REFRESH_SECONDS)
            if not await self._still_member():
                await self._leave_group()
                await self.close(code=CLOSE_FORBIDDEN)
                return
            await database_sync_to_async(presence_refresh)(
                room_id=self.room_id, user_id=self.user.pk
            )

    async def _leave_group(self) -> None:
        """Stop receiving the room's frames."""
        if self._joined:
            self._joined = False
            await self.channel_layer.group_discard(
                events.room_group(self.room_id), self.channel_name
            )

    async def disconnect(self, code: int) -> None:
        """Leave the group, stop counting the socket as present."""
        await super().disconnect(code)
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await database_sync_to_async(presence_leave)(room_id=self.room_id, user_id=self.user.pk)
        await self._leave_group()

    # Client → server -------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Decode a frame; anything but a JSON object with a `type` gets `parse_error`."""
        try:
            content = await self.decode_json(text_data) if text_data is not None else None
        except ValueError:
            content = None
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_json(events.error_frame(*PARSE_ERROR))
            return
        await self.receive_json(content)

    async def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        """Route a frame by its type; a refused one is answered with an `error` frame."""
        handlers = {
            "message.send": self._message_send,
            "typing": self._typing,
            "read": self._read,
        }
        handler = handlers.get(content["type"])
        if handler is None:
            await self.send_json(events.error_frame(*UNKNOWN_TYPE))
            return
        try:
            await handler(content)
        except NotFound:  # no longer a member
            await self._leave_group()
            await self.close(code=CLOSE_FORBIDDEN)
        except APIException as exc:
            await self.send_json(events.error_frame(*first_error(exc)))

    def _throttled(self) -> bool:
        """True past `CHAT_SOCKET_MESSAGES` messages in `CHAT_SOCKET_WINDOW_SECONDS`."""
        now = time.monotonic()
        while self.sent_at and now - self.sent_at[0] >= settings.CHAT_SOCKET_WINDOW_SECONDS:
            self.sent_at.popleft()
        if len(self.sent_at) >= settings.CHAT_SOCKET_MESSAGES:
            return True
        self.sent_at.append(now)
        return False

    async def _message_send(self, content: dict[str, Any]) -> None:
        """`message.send`: stored and broadcast to the room (this socket included)."""
        if self._throttled():
            await self.send_json(events.error_frame(*THROTTLED))
            return
        serializer = MessageSendSerializer(data=content)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        message, created = await self._as_user(
            message_send,
            room_id=self.room_id,
            sender=self.user,
            body=data["body"],
            client_id=data["client_id"],
        )
        # A resend of a message from before this socket's start: it reaches this socket once,
        # here (later ones come through the room's group, or came through the catch-up).
        if not created and message.seq <= self.start_seq and str(message.pk) not in self.replayed:
            self.replayed.add(str(message.pk))
            await self.send_json(events.message_new_frame(message))

    async def _typing(self, content: dict[str, Any]) -> None:
        """`typing`: to the others in the room, at most once per interval (extra ones dropped)."""
        now = time.monotonic()
        if now - self.typed_at < settings.CHAT_TYPING_INTERVAL_SECONDS:
            return
        self.typed_at = now
        await self.channel_layer.group_send(
            events.room_group(self.room_id),
            {
                "type": events.LAYER_TYPING,
                "frame": events.typing_frame(self.user),
                "sender": self.channel_name,
            },
        )

    async def _read(self, content: dict[str, Any]) -> None:
        """`read`: the marker moves; the room gets the receipt from the service."""
        serializer = ReadSerializer(data=content)
        serializer.is_valid(raise_exception=True)
        await self._as_user(
            room_mark_read,
            room_id=self.room_id,
            user=self.user,
            message_id=serializer.validated_data["message_id"],
        )

    async def _as_user(self, service: Callable[..., T], **kwargs: Any) -> T:
        """Run a service in a worker thread as this socket's user (for the audit log)."""
        headers = dict(self.scope.get("headers") or [])
        context = ActorContext(
            user=self.user,
            ip=(self.scope.get("client") or [None])[0],
            user_agent=headers.get(b"user-agent", b"").decode(errors="replace"),
        )

        def run() -> T:
            set_actor_context(context)
            try:
                return service(**kwargs)
            finally:
                set_actor_context(None)

        result: T = await database_sync_to_async(run)()
        return result

    # Server → client (channel-layer messages) ------------------------------------------

    async def chat_frame(self, event: dict[str, Any]) -> None:
        """A frame for the room. A message already sent is not sent again; one that overtook
        earlier ones (broadcast by another process) comes after them, read from the database:
        its number committed after theirs, so they are there."""
        seq = int(event.get("seq") or 0)
        if seq:
            if seq <= self.last_seq_sent:
                return
            if seq > self.last_seq_sent + 1:
                gap = await database_sync_to_async(self._between)(self.last_seq_sent, seq)
                for message in gap:
                    await self.send_json(events.message_new_frame(message))
            self.last_seq_sent = seq
        await self.send_json(event["frame"])

    def _between(self, after_seq: int, before_seq: int) -> list[Message]:
        """The messages numbered strictly between the two, oldest first."""
        between = message_list_after(
            room_id=self.room_id, after_seq=after_seq, before_seq=before_seq
        )
        return list(between[: settings.CHAT_CATCH_UP_MAX_MESSAGES])

    async def chat_typing(self, event: dict[str, Any]) -> None:
        """Someone else is typing."""
        if event["sender"] != self.channel_name:
            await self.send_json(event["frame"])

    async def chat_member_removed(self, event: dict[str, Any]) -> None:
        """This socket's user was removed from the room: close with 4403."""
        if event["user_id"] == str(self.user.pk):
            await self._leave_group()  # nothing more reaches it, even before the close completes
            await self.close(code=CLOSE_FORBIDDEN)
