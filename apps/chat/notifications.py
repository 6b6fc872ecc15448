"""What the chat tells WebSocket clients (docs/websockets.md): `chat.unread` on
`/ws/notifications/`, and every frame of `/ws/chat/{room_id}/` in both directions with its
close codes. The frames are built in apps.chat.events; tests check them against these shapes."""

from rest_framework import serializers

from apps.chat.serializers import (
    ChatUnreadEventSerializer,
    ChatUserSerializer,
    MessageSendSerializer,
    MessageSerializer,
    ReadSerializer,
)
from apps.core.http.serializers import AppSerializer
from apps.core.platform.ws.consumers import (
    CLOSE_FORBIDDEN,
    CLOSE_NOT_FOUND,
    CLOSE_UNAUTHORIZED,
)
from apps.core.platform.ws.events import (
    SocketEndpoint,
    SocketFrame,
    notification_event,
    socket_endpoint,
)

CHAT_UNREAD = notification_event(
    name="chat.unread",
    audience="A member of the room, on each of their devices.",
    data=ChatUnreadEventSerializer,
    description=(
        "The member's unread count in a room changed: a message arrived while they did not "
        "have the room open, or they read it on another device."
    ),
)


class MessageFrameSerializer(AppSerializer):
    """`message.new` and `message.updated`: the message as REST shows it."""

    message = MessageSerializer(read_only=True)


class MessageDeletedFrameSerializer(AppSerializer):
    """`message.deleted`."""

    id = serializers.UUIDField(read_only=True, help_text="The deleted message's id.")


class TypingFrameSerializer(AppSerializer):
    """`typing` from the server: who is typing."""

    user = ChatUserSerializer(read_only=True)


class ReadFrameSerializer(AppSerializer):
    """`read` from the server: a read receipt."""

    user_id = serializers.UUIDField(read_only=True, help_text="The member who read.")
    message_id = serializers.UUIDField(read_only=True, help_text="Up to this message.")


class ErrorFrameSerializer(AppSerializer):
    """`error`: the client's frame was refused; the socket stays open."""

    code = serializers.CharField(
        read_only=True,
        help_text=(
            "`parse_error` (not a JSON object with a `type`), `invalid` (unknown type, or a "
            "field's value), `throttled` (too many messages), `too_many_missed` (the catch-up "
            "stopped; read the rest over REST), or a field's validation code (`required`, "
            "`blank`, `max_length`...)."
        ),
    )
    detail = serializers.CharField(
        read_only=True, help_text="For people; a field's error starts with `<field>: `."
    )


class EmptyFrameSerializer(AppSerializer):
    """A frame with nothing beside its type."""


socket_endpoint(
    SocketEndpoint(
        path="/ws/chat/{room_id}/",
        description=(
            "A member's live view of one room. Members only. Every message numbered after the "
            "socket's start reaches it exactly once and in order (its own included). Frames "
            "the client sends go through the same rules as REST; a refused one is answered "
            "with an `error` frame and the socket stays open."
        ),
        query=(
            (
                "after",
                "A message id: first sends, oldest first, the messages after it (up to "
                "`CHAT_CATCH_UP_MAX_MESSAGES`, then an `error` `too_many_missed`), then live "
                "frames. Use it on reconnect with the last message you have.",
            ),
        ),
        client_frames=(
            SocketFrame(
                "message.send",
                MessageSendSerializer,
                "Send a message (as `POST .../messages/`). A resend with the same `client_id` "
                "returns the first message; at most `CHAT_SOCKET_MESSAGES` per "
                "`CHAT_SOCKET_WINDOW_SECONDS` per socket.",
            ),
            SocketFrame(
                "typing",
                EmptyFrameSerializer,
                "The user is typing: shown to the others, at most once per "
                "`CHAT_TYPING_INTERVAL_SECONDS` (extra ones are dropped). Never stored.",
            ),
            SocketFrame(
                "read", ReadSerializer, "Mark the room read up to this message (never backwards)."
            ),
        ),
        server_frames=(
            SocketFrame("message.new", MessageFrameSerializer, "A new message in the room."),
            SocketFrame(
                "message.updated",
                MessageFrameSerializer,
                "A message changed: an attachment was stored on it, or it was restored.",
            ),
            SocketFrame(
                "message.deleted",
                MessageDeletedFrameSerializer,
                "A message was deleted: show it as deleted.",
            ),
            SocketFrame("typing", TypingFrameSerializer, "Someone else in the room is typing."),
            SocketFrame("read", ReadFrameSerializer, "A member read up to a message."),
            SocketFrame("error", ErrorFrameSerializer, "A frame of this socket was refused."),
        ),
        close_codes=(CLOSE_UNAUTHORIZED, CLOSE_FORBIDDEN, CLOSE_NOT_FOUND),
    ),
    declared_in=__name__,
)
