"""The chat endpoints through the generic endpoint tests."""

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.models import User
from apps.chat import views
from apps.chat.models import Message, Room
from apps.chat.services import room_member_add
from tests import api_cases as api
from tests.chat import factories as f
from tests.envelope import assert_error
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class TestRoomEndpoint(api.List, api.Retrieve, api.Create):
    """Rooms: the caller's own (by membership), direct or group."""

    url_name = "chat-room"
    view = views.RoomViewSet
    invalid_payload = {"kind": "group", "name": "Team", "members": []}
    invalid_attr = "members"

    def make(self, owner: Any) -> Room:
        return f.direct(owner)

    def create_payload(self) -> dict[str, Any]:
        return {"kind": "direct", "members": [str(UserFactory().pk)]}

    def test_retrieve_of_a_room_one_is_not_in_is_404(self) -> None:
        theirs = f.direct(UserFactory())
        user = self.permitted()
        assert_error(self.client_for(user).get(self.detail_url(theirs)), 404, "not_found")


class InOneRoom(api.Endpoint):
    """Every caller the generic tests make is a member of one group room (messages are
    visible to members only, whatever the RBAC scope)."""

    _room: Room | None = None

    def room(self) -> Room:
        if self._room is None:
            self._room = f.group(UserFactory(), name="Generic")
        return self._room

    def join(self, user: User) -> User:
        room = self.room()
        if not room.memberships.filter(user=user).exists():
            room_member_add(room=room, user_id=user.pk, by=room.created_by)
        return user

    def permitted(self, flags: tuple[str, ...] = api.ALL_FLAGS, scope: str = "all") -> User:
        return self.join(super().permitted(flags, scope))

    def unpermitted(self) -> User:
        return self.join(super().unpermitted())


class TestMessageEndpoint(InOneRoom, api.List, api.Retrieve, api.Create, api.Delete):
    """Messages of a room: history, send, delete (soft, restorable from the trash)."""

    url_name = "chat-message"
    view = views.MessageViewSet
    invalid_payload = {"body": "x" * 4001}
    invalid_attr = "body"

    @property
    def url(self) -> str:
        return api.api_url("chat-message-list", room_pk=self.room().pk)

    def detail_url(self, instance: Any, pk: Any = None) -> str:
        return api.api_url("chat-message-detail", room_pk=self.room().pk, pk=pk or instance.pk)

    def make(self, owner: Any) -> Message:
        return f.message(self.room(), self.join(owner))

    def create_payload(self) -> dict[str, Any]:
        return {"body": "Hi there", "client_id": None}

    def test_a_non_member_gets_404_on_the_messages_of_a_room(self) -> None:
        outsider = api.UserFactory()
        api.grant(outsider, f.MESSAGES)
        room = f.direct(UserFactory())
        url = api.api_url("chat-message-list", room_pk=room.pk)
        assert_error(self.client_for(outsider).get(url), 404, "not_found")
        assert_error(self.client_for(outsider).post(url, {"body": "hi"}), 404, "not_found")


class TestRoomReadEndpoint(api.Action):
    """`POST /chat/rooms/{id}/read/`: the unread count left."""

    url_name = "chat-room-read"
    view = views.RoomViewSet
    invalid_payload = {"message_id": "not-an-id"}
    invalid_attr = "message_id"

    def prepare(self, user: User | None) -> str:
        other = UserFactory()
        room = f.direct(user or UserFactory(), other)
        self.message = f.message(room, other)
        return api.api_url("chat-room-read", pk=room.pk)

    def call_payload(self) -> dict[str, Any]:
        return {"message_id": str(self.message.pk)}


class TestRoomMembersEndpoint(api.Action):
    """`POST /chat/rooms/{id}/members/`: the owner adds a user to a group."""

    url_name = "chat-room-members"
    view = views.RoomViewSet
    success_status = 201
    invalid_payload = {"user": "nobody"}
    invalid_attr = "user"

    def prepare(self, user: User | None) -> str:
        room = f.group(user or UserFactory())
        return api.api_url("chat-room-members", pk=room.pk)

    def call_payload(self) -> dict[str, Any]:
        return {"user": str(UserFactory().pk)}


class TestRoomMemberRemoveEndpoint(api.Action):
    """`DELETE /chat/rooms/{id}/members/{user_id}/`: the owner removes a member."""

    url_name = "chat-room-member"
    view = views.RoomViewSet
    method = "delete"

    def prepare(self, user: User | None) -> str:
        member = UserFactory()
        room = f.group(user or UserFactory(), member)
        return api.api_url("chat-room-member", pk=room.pk, user_id=member.pk)

    def call(self, user: User | None, url: str, payload: Any) -> Any:
        return self.client_for(user).delete(url)


class TestMessageAttachmentEndpoint(api.Action):
    """`POST /chat/messages/{id}/attachment/`: an image or PDF on one's own message."""

    url_name = "chat-message-attachment"
    view = views.MessageAttachmentUploadAPIView
    invalid_payload = {"other": "x"}
    invalid_attr = "file"

    def prepare(self, user: User | None) -> str:
        sender = user or UserFactory()
        self.message = f.message(f.direct(sender), sender)
        return api.api_url("chat-message-attachment", pk=self.message.pk)

    def call(self, user: User | None, url: str, payload: Any) -> Any:
        return api.client_for(user).post(url, payload, format="multipart")

    def call_payload(self) -> dict[str, Any]:
        return {"file": SimpleUploadedFile("doc.pdf", b"%PDF-1.4\n" + bytes(64))}
