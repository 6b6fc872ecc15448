"""Chat test data, made through the real services (rooms, members, messages)."""

from typing import Any

from apps.accounts.models import User
from apps.chat.models import Message, Room
from apps.chat.services import message_send, room_create_direct, room_create_group
from tests import api_cases as api
from tests.factories import UserFactory

ROOMS = "chat.rooms"
MESSAGES = "chat.messages"


def chatter(**kwargs: Any) -> User:
    """A user whose roles let them chat (scope `own`, as the seeded roles)."""
    user = UserFactory(**kwargs)
    api.grant(user, ROOMS, scope="own")
    api.grant(user, MESSAGES, scope="own")
    return user


def direct(a: User, b: User | None = None) -> Room:
    """The direct room of `a` and `b` (a new user when None)."""
    room, _ = room_create_direct(creator=a, other_id=(b or UserFactory()).pk)
    return room


def group(owner: User, *members: User, name: str = "Team") -> Room:
    """A group owned by `owner`."""
    return room_create_group(creator=owner, name=name, member_ids=[m.pk for m in members])


def message(room: Room, sender: User, body: str = "hello", client_id: str | None = None) -> Message:
    """A message sent through the service."""
    sent, _ = message_send(room_id=room.pk, sender=sender, body=body, client_id=client_id)
    return sent
