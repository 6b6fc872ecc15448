"""Chat payloads and representations (DESIGN.md: Chat). The message representation is also
the `message` of the socket frames (apps.chat.events)."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.chat.models import (
    BODY_MAX_LENGTH,
    CLIENT_ID_MAX_LENGTH,
    ROOM_NAME_MAX_LENGTH,
    Message,
    Room,
    RoomKind,
)
from apps.core.http.serializers import (
    AppReadOnlyModelSerializer,
    AppSerializer,
    ProjectedMethodField,
)

MAX_GROUP_MEMBERS = 200
NAME_REQUIRED_MESSAGE = "A group needs a name."
NO_NAME_FOR_DIRECT_MESSAGE = "A direct room has no name."
DIRECT_NEEDS_ONE_MESSAGE = "A direct room has exactly one other member."


class ChatUserSerializer(AppSerializer):
    """A member or sender as chat shows them."""

    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)


class MessageSerializer(AppReadOnlyModelSerializer):
    """A message; a deleted one keeps its place with an empty body and no attachment.
    The method fields read only the columns they declare, so lists are projected."""

    room = serializers.UUIDField(source="room_id", read_only=True)
    sender = ChatUserSerializer(read_only=True)
    body = ProjectedMethodField(reads=("is_deleted", "body"))
    client_id = ProjectedMethodField(reads=("client_id",))
    attachment = ProjectedMethodField(reads=("is_deleted", "attachment"))

    class Meta:
        model = Message
        fields = (
            "id",
            "room",
            "sender",
            "body",
            "client_id",
            "attachment",
            "created_at",
            "is_deleted",
        )

    def get_body(self, message: Message) -> str:
        """The text, or "" once deleted."""
        return "" if message.is_deleted else message.body

    def get_client_id(self, message: Message) -> str | None:
        """The sender's own id for the message, or null."""
        return message.client_id or None

    @extend_schema_field({"type": ["string", "null"], "format": "uri"})
    def get_attachment(self, message: Message) -> str | None:
        """The attached file's absolute URL (signed on S3), or null."""
        if message.is_deleted or not message.attachment:
            return None
        url = str(message.attachment.url)
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class RoomSerializer(AppReadOnlyModelSerializer):
    """A room of the caller, with its members, last message and the caller's unread count."""

    members = serializers.SerializerMethodField()
    last_message = MessageSerializer(read_only=True, allow_null=True)
    unread_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Room
        fields = ("id", "kind", "name", "members", "last_message", "unread_count", "updated_at")

    @extend_schema_field(ChatUserSerializer(many=True))
    def get_members(self, room: Room) -> list[dict[str, Any]]:
        """The live members, in the order they joined."""
        memberships = getattr(room, "live_memberships", None)
        if memberships is None:  # not read through the selector
            memberships = list(room.memberships.select_related("user").order_by("created_at"))
        return [{"id": str(m.user_id), "name": m.user.name} for m in memberships]


class RoomCreateSerializer(AppSerializer):
    """`POST /chat/rooms/`: a direct room with one other user, or a named group."""

    kind = serializers.ChoiceField(choices=RoomKind.choices)
    name = serializers.CharField(max_length=ROOM_NAME_MAX_LENGTH, required=False, default="")
    members = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=MAX_GROUP_MEMBERS
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """A group has a name; a direct room has exactly one other member and no name."""
        if attrs["kind"] == RoomKind.GROUP and not attrs["name"].strip():
            raise serializers.ValidationError({"name": [NAME_REQUIRED_MESSAGE]}, code="required")
        if attrs["kind"] == RoomKind.DIRECT:
            if attrs["name"]:
                raise serializers.ValidationError({"name": [NO_NAME_FOR_DIRECT_MESSAGE]})
            if len(set(attrs["members"])) != 1:
                raise serializers.ValidationError({"members": [DIRECT_NEEDS_ONE_MESSAGE]})
        return attrs


class MessageSendSerializer(AppSerializer):
    """A new message, over REST or the socket: 1 to 4000 characters and an optional `client_id`
    (your own id for it: a resend with the same one returns the first message)."""

    body = serializers.CharField(min_length=1, max_length=BODY_MAX_LENGTH, trim_whitespace=False)
    client_id = serializers.CharField(
        max_length=CLIENT_ID_MAX_LENGTH, required=False, allow_null=True, default=None
    )

    def validate_body(self, body: str) -> str:
        """Not only whitespace."""
        if not body.strip():
            raise serializers.ValidationError("This field may not be blank.", code="blank")
        return body


class ReadSerializer(AppSerializer):
    """`POST /chat/rooms/{id}/read/`: read up to this message."""

    message_id = serializers.UUIDField()


class UnreadSerializer(AppSerializer):
    """What is left unread in the room."""

    unread_count = serializers.IntegerField(read_only=True)


class MemberAddSerializer(AppSerializer):
    """`POST /chat/rooms/{id}/members/`: the user to add to a group."""

    user = serializers.UUIDField()


class ChatUnreadEventSerializer(AppSerializer):
    """The data of the `chat.unread` event on `/ws/notifications/`."""

    room_id = serializers.UUIDField(read_only=True)
    unread_count = serializers.IntegerField(read_only=True)
