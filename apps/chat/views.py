"""Chat endpoints: HTTP only, one service or selector call each (DESIGN.md: Chat).

A room and its messages are visible to its members alone, whatever the caller's RBAC scope: a
non-member gets 404, never 403 and never data. The features decide who may chat at all:
`chat.rooms` (`retrieve` to read rooms and mark them read, `create` to start rooms, `update`
to change a group's members) and `chat.messages` (`retrieve`, `create` to send, `delete` to
delete: one's own messages, a group owner any in the group, scope `all` any in rooms one is in).
"""

from typing import TYPE_CHECKING, Any, cast

from django.db import models
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status as http_status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.chat.models import Message, Room, RoomKind
from apps.chat.selectors import (
    inbox_namespace,
    message_list,
    message_list_after,
    message_list_attachable,
    message_list_of,
    message_seq_in_room,
    room_list_of,
    room_of,
    room_of_member,
)
from apps.chat.serializers import (
    MemberAddSerializer,
    MessageSendSerializer,
    MessageSerializer,
    ReadSerializer,
    RoomCreateSerializer,
    RoomSerializer,
    UnreadSerializer,
)
from apps.chat.services import (
    message_delete,
    message_send,
    room_create_direct,
    room_create_group,
    room_mark_read,
    room_member_add,
    room_member_remove,
)
from apps.core.api.uploads import get_upload_api_view
from apps.core.http.envelope import AppResponse
from apps.core.http.openapi import ErrorEnvelopeSerializer
from apps.core.http.pagination import AppCursorPagination, AppPageOrCursorPagination
from apps.core.http.views import AppModelListAPIViewSet, AppModelRetrieveAPIViewSet
from apps.core.idempotency.flow import REPLAY_HEADER
from apps.core.models import PermissionScope
from apps.core.uploads.sniffing import IMAGE_TYPES

if TYPE_CHECKING:
    from apps.accounts.models import User

ROOMS_FEATURE = "chat.rooms"
MESSAGES_FEATURE = "chat.messages"
TAGS = ["chat"]
UUID_PATTERN = "[0-9a-fA-F-]{36}"
ATTACHMENT_TYPES = (*IMAGE_TYPES, "application/pdf")
ATTACHMENT_MAX_MB = 10


def caller(request: Request) -> "User":
    """The signed-in user of a request that passed the feature permission."""
    return cast("User", request.user)


class MemberScopedMixin:
    """The rows are the caller's rooms (selected by membership), whatever their RBAC scope:
    the feature permission decides what they may do, never which rooms they see. So no
    scope opens the trash of rooms or messages either (staff only)."""

    trash_by_scope = False

    def scope_queryset(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        """Unchanged: the selector already keeps the caller's rooms only."""
        return queryset

    @classmethod
    def serves_scope_own(cls) -> bool:
        """Yes: every scope sees only the caller's rooms."""
        return True


class RoomViewSet(MemberScopedMixin, AppModelListAPIViewSet, AppModelRetrieveAPIViewSet):
    """The caller's rooms, latest activity first, with their last message and unread count
    (cached per user until a message arrives, the user reads or the members change)."""

    feature = ROOMS_FEATURE
    queryset = Room.objects.none()
    serializer_classes = {"retrieve": RoomSerializer, "create": RoomCreateSerializer}
    filter_backends = ()
    pagination_class = AppPageOrCursorPagination  # `?pagination=cursor`: infinite scroll
    action_flags = {"read": "retrieve", "members": "update", "member_remove": "update"}
    cache_responses = True
    lookup_value_regex = UUID_PATTERN

    def get_base_queryset(self) -> models.QuerySet[Any]:
        """The caller's rooms."""
        return room_list_of(user_id=caller(self.request).pk)

    def get_cache_namespaces(self) -> tuple[str, ...]:
        """The caller's own rooms list, and the users (names shown as members)."""
        return (inbox_namespace(caller(self.request).pk), "accounts.user")

    @extend_schema(
        summary="List my chat rooms",
        description=(
            "The caller's rooms, latest activity first, each with its members, last message and "
            "the caller's unread count."
        ),
        tags=TAGS,
        responses={200: RoomSerializer(many=True)},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Your rooms, latest activity first, each with its last message and your unread count."""
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Get a chat room",
        description="One of the caller's rooms (another room is a 404).",
        tags=TAGS,
        responses={200: RoomSerializer, 404: ErrorEnvelopeSerializer},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One of your rooms (404 when you are not a member)."""
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Start a chat room",
        description=(
            "`kind: direct` with one other user's id in `members` answers the existing room of the"
            " pair (200) or a new one (201); `kind: group` with a `name` creates a group the "
            "caller owns (201)."
        ),
        tags=TAGS,
        request=RoomCreateSerializer,
        responses={200: RoomSerializer, 201: RoomSerializer, 400: ErrorEnvelopeSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Start a direct room with one user (200 with the existing room of the pair), or a
        named group with you as its owner (201)."""
        serializer = RoomCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = caller(request)
        if data["kind"] == RoomKind.DIRECT:
            room, created = room_create_direct(creator=user, other_id=data["members"][0])
        else:
            room = room_create_group(creator=user, name=data["name"], member_ids=data["members"])
            created = True
        answer = RoomSerializer(room_of(room_id=room.pk, user_id=user.pk)).data
        status = http_status.HTTP_201_CREATED if created else http_status.HTTP_200_OK
        return AppResponse(answer, status=status)

    @extend_schema(
        summary="Mark a room read",
        description=(
            "Marks the room read up to `message_id` and answers how many messages are still unread."
        ),
        tags=TAGS,
        request=ReadSerializer,
        responses={
            200: UnreadSerializer,
            400: ErrorEnvelopeSerializer,
            404: ErrorEnvelopeSerializer,
        },
    )
    @action(detail=True, methods=["post"])
    def read(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Mark the room read up to a message; answers what is left unread."""
        serializer = ReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        count = room_mark_read(
            room_id=self.get_object().pk,
            user=caller(request),
            message_id=serializer.validated_data["message_id"],
        )
        return AppResponse({"unread_count": count})

    @extend_schema(
        summary="Add a member to a group",
        description="The group's owner adds a user; answers the room with its members.",
        tags=TAGS,
        request=MemberAddSerializer,
        responses={201: RoomSerializer, 400: ErrorEnvelopeSerializer, 403: ErrorEnvelopeSerializer},
    )
    @action(detail=True, methods=["post"])
    def members(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The owner adds a user to a group."""
        serializer = MemberAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        room = self.get_object()
        user = caller(request)
        room_member_add(room=room, user_id=serializer.validated_data["user"], by=user)
        answer = RoomSerializer(room_of(room_id=room.pk, user_id=user.pk)).data
        return AppResponse(answer, status=http_status.HTTP_201_CREATED)

    @extend_schema(
        summary="Remove a member from a group",
        description=(
            "The group's owner removes a member, or a member leaves (their own id). Their open "
            "sockets on the room close with 4403."
        ),
        tags=TAGS,
        request=None,
        responses={200: None, 403: ErrorEnvelopeSerializer, 404: ErrorEnvelopeSerializer},
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=f"members/(?P<user_id>{UUID_PATTERN})",
        url_name="member",
    )
    def member_remove(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The owner removes a member of a group, or a member leaves it (their own id); their
        open sockets on the room close with 4403."""
        room_member_remove(room=self.get_object(), user_id=kwargs["user_id"], by=caller(request))
        return AppResponse(None)


class MessageCursorPagination(AppCursorPagination):
    """History: newest first (`?cursor=` for older pages)."""

    ordering: Any = ("-seq",)


class MessageCatchUpPagination(AppCursorPagination):
    """Catch-up (`?after=`): oldest first, from the message after the one given."""

    ordering: Any = ("seq",)


AFTER_PARAMETER = OpenApiParameter(
    "after",
    str,
    description="A message id of this room: answers the messages after it, oldest first.",
)


class MessageViewSet(MemberScopedMixin, AppModelListAPIViewSet, AppModelRetrieveAPIViewSet):
    """A room's messages (members only, deleted ones as tombstones in the lists): history in
    cursor pages, catch-up with `?after=`, one message, send, delete."""

    feature = MESSAGES_FEATURE
    queryset = Message.objects.none()
    serializer_classes = {"retrieve": MessageSerializer, "create": MessageSendSerializer}
    filter_backends = ()
    pagination_class = MessageCursorPagination  # the history's; `paginator` picks per request
    lookup_value_regex = UUID_PATTERN

    @property
    def paginator(self) -> Any:
        """Catch-up pages with `?after=`, history pages otherwise."""
        if not hasattr(self, "_message_paginator"):
            after = "after" in self.request.query_params
            pagination = MessageCatchUpPagination if after else MessageCursorPagination
            self._message_paginator = pagination()
        return self._message_paginator

    def room(self) -> Room:
        """The room of the URL, when the caller is a member (404 otherwise)."""
        if not hasattr(self, "_room"):
            self._room = room_of_member(
                room_id=self.kwargs["room_pk"], user_id=caller(self.request).pk
            )
        return self._room

    def get_base_queryset(self) -> models.QuerySet[Any]:
        """The room's messages, or those after `?after=` for catch-up."""
        room = self.room()
        if self.action in ("retrieve", "destroy"):  # a deleted message is gone here
            return message_list().filter(room=room, is_deleted=False)
        after = self.request.query_params.get("after")
        if after is None:
            return message_list_of(room_id=room.pk)
        seq = message_seq_in_room(room_id=room.pk, message_id=after, attr="after")
        return message_list_after(room_id=room.pk, after_seq=seq)

    @extend_schema(
        summary="List a room's messages",
        description=(
            "Cursor pages of the room's messages, newest first. With `?after=<message id>`, the "
            "messages after it, oldest first: the catch-up after a reconnect. Deleted messages "
            "keep their place with an empty body."
        ),
        tags=TAGS,
        parameters=[AFTER_PARAMETER],
        responses={200: MessageSerializer(many=True)},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The room's messages newest first; with `?after=<message id>`, the ones after it
        oldest first (catch-up after a reconnect). Deleted ones keep their place, empty."""
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Get a message",
        description="One message of the room (a deleted one is a 404).",
        tags=TAGS,
        responses={200: MessageSerializer, 404: ErrorEnvelopeSerializer},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One message of the room (404 once deleted)."""
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Send a message",
        description=(
            "Sends `body` (1 to 4000 characters) to the room; members receive it on "
            "`/ws/chat/{room_id}/`. Resending with a `client_id` already used answers the first "
            "message and stores nothing."
        ),
        tags=TAGS,
        request=MessageSendSerializer,
        responses={201: MessageSerializer, 404: ErrorEnvelopeSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Send a message (201); a resend with a `client_id` you already used answers the
        first message (201 with `Idempotent-Replayed: true`) and stores nothing."""
        serializer = MessageSendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message, created = message_send(
            room_id=self.room().pk,
            sender=caller(request),
            body=serializer.validated_data["body"],
            client_id=serializer.validated_data["client_id"],
        )
        headers = {} if created else {REPLAY_HEADER: "true"}  # as an Idempotency-Key replay
        return AppResponse(
            MessageSerializer(message).data, status=http_status.HTTP_201_CREATED, headers=headers
        )

    @extend_schema(
        summary="Delete a message",
        description=(
            "Deletes a message (soft): its sender, the group's owner or a moderator. Members "
            "receive `message.deleted`."
        ),
        tags=TAGS,
        responses={200: None, 403: ErrorEnvelopeSerializer, 404: ErrorEnvelopeSerializer},
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Delete a message (soft): its sender, the group's owner, or a moderator."""
        message_delete(
            message=self.get_object(),
            actor=caller(request),
            moderator=self.caller_scope("delete") == PermissionScope.ALL,
        )
        return AppResponse(None)


MessageAttachmentUploadAPIView = get_upload_api_view(
    Message,
    "attachment",
    max_size_mb=ATTACHMENT_MAX_MB,
    allowed_types=ATTACHMENT_TYPES,
    feature=MESSAGES_FEATURE,
    owner_field="sender",
    presign_max_size_mb=ATTACHMENT_MAX_MB,
    reachable=message_list_attachable,
)
