"""Every frame the chat sends, declared once: WebSocket frames on `/ws/chat/{room_id}/`, the
channel-layer messages that carry them between server processes, and `chat.unread` on
`/ws/notifications/` (DESIGN.md: Chat, WebSocket events).

Server → client frames on a room's socket:
- `{"type": "message.new", "message": <message>}`: a new message (also to its sender);
- `{"type": "message.updated", "message": <message>}`: an attachment was stored on it;
- `{"type": "message.deleted", "id": "<message id>"}`;
- `{"type": "typing", "user": {"id", "name"}}`: someone else is typing (never stored);
- `{"type": "read", "user_id", "message_id"}`: a member read up to that message;
- `{"type": "error", "code", "detail"}`: a frame of this socket was refused.
`<message>` is the REST representation (apps.chat.serializers.MessageSerializer).
"""

import uuid
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from apps.chat.models import Message
from apps.chat.notifications import CHAT_UNREAD  # noqa: F401 - used as events.CHAT_UNREAD
from apps.chat.serializers import ChatUnreadEventSerializer, MessageSerializer

MESSAGE_NEW = "message.new"
MESSAGE_UPDATED = "message.updated"
MESSAGE_DELETED = "message.deleted"
TYPING = "typing"
READ = "read"
ERROR = "error"

# Channel-layer message types: Channels calls the consumer method with dots as underscores.
LAYER_FRAME = "chat.frame"  # a frame for every socket of the room (`seq` orders messages)
LAYER_TYPING = "chat.typing"  # a frame for every socket but the typist's
LAYER_MEMBER_REMOVED = "chat.member.removed"  # the removed user's sockets close with 4403


def room_group(room_id: uuid.UUID | str) -> str:
    """The channel-layer group of every open socket of one room."""
    return f"chat.room.{room_id}"


def message_data(message: Message) -> dict[str, Any]:
    """A message as REST and the sockets show it."""
    return dict(MessageSerializer(message).data)


def message_new_frame(message: Message) -> dict[str, Any]:
    """`message.new`."""
    return {"type": MESSAGE_NEW, "message": message_data(message)}


def message_updated_frame(message: Message) -> dict[str, Any]:
    """`message.updated`."""
    return {"type": MESSAGE_UPDATED, "message": message_data(message)}


def message_deleted_frame(message_id: uuid.UUID | str) -> dict[str, Any]:
    """`message.deleted`."""
    return {"type": MESSAGE_DELETED, "id": str(message_id)}


def typing_frame(user: Any) -> dict[str, Any]:
    """`typing`."""
    return {"type": TYPING, "user": {"id": str(user.pk), "name": user.name}}


def read_frame(user_id: uuid.UUID | str, message_id: uuid.UUID | str) -> dict[str, Any]:
    """`read`."""
    return {"type": READ, "user_id": str(user_id), "message_id": str(message_id)}


def error_frame(code: str, detail: str) -> dict[str, Any]:
    """`error`: the frame was refused; the socket stays open."""
    return {"type": ERROR, "code": code, "detail": detail}


def unread_data(room_id: uuid.UUID | str, unread_count: int) -> dict[str, Any]:
    """The data of `chat.unread` (its shape: ChatUnreadEventSerializer)."""
    return dict(ChatUnreadEventSerializer({"room_id": room_id, "unread_count": unread_count}).data)


def room_broadcast(room_id: uuid.UUID | str, frame: dict[str, Any], *, seq: int = 0) -> None:
    """Send `frame` to every open socket of the room, in every server process."""
    _group_send(room_id, {"type": LAYER_FRAME, "frame": frame, "seq": seq})


def room_member_removed_broadcast(room_id: uuid.UUID | str, user_id: uuid.UUID | str) -> None:
    """Close the removed member's sockets on the room."""
    _group_send(room_id, {"type": LAYER_MEMBER_REMOVED, "user_id": str(user_id)})


def _group_send(room_id: uuid.UUID | str, message: dict[str, Any]) -> None:
    """One channel-layer message to the room's group (nothing without a channel layer)."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(room_group(room_id), message)
