"""Rooms, memberships and messages (DESIGN.md: Chat).

Each room numbers its messages: `Message.seq` is 1, 2, 3... within the room, taken from
`Room.last_seq` by one `UPDATE ... SET last_seq = last_seq + 1` that also locks the room row
until the sender's transaction commits. Numbers are therefore handed out in commit order,
which is what makes `?after=` catch-up exact (a message committed later never has a smaller
number) and unread counts a comparison with `Membership.last_read_seq`.
"""

import uuid
from pathlib import PurePosixPath
from typing import Any, ClassVar

from django.conf import settings
from django.db import models

from apps.core.models import BaseModel

LIVE = models.Q(is_deleted=False)
BODY_MAX_LENGTH = 4000
CLIENT_ID_MAX_LENGTH = 64
ROOM_NAME_MAX_LENGTH = 120


ATTACHMENT_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".pdf"})


def attachment_path(message: "Message", filename: str) -> str:
    """`chat/<room>/<random>/file<.ext>`: unguessable, and never the client's name or an
    extension outside the allowed types (a sniffed PNG named `x.html` is stored as `file`)."""
    extension = PurePosixPath(filename).suffix.lower()
    suffix = extension if extension in ATTACHMENT_EXTENSIONS else ""
    return f"chat/{message.room_id}/{uuid.uuid4().hex}/file{suffix}"


class RoomKind(models.TextChoices):
    """A room of two people, or a named group."""

    DIRECT = "direct", "Direct"
    GROUP = "group", "Group"


class MemberRole(models.TextChoices):
    """The owner of a group adds and removes members and moderates its messages."""

    OWNER = "owner", "Owner"
    MEMBER = "member", "Member"


class Room(BaseModel):
    """A conversation; `updated_at` moves with its latest message (the rooms list's order)."""

    kind = models.CharField(max_length=6, choices=RoomKind.choices)
    name = models.CharField(max_length=ROOM_NAME_MAX_LENGTH, blank=True)
    # "<smaller user id>:<larger user id>" for a direct room: one live room per pair.
    direct_key = models.CharField(max_length=73, blank=True, default="", editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_seq = models.PositiveBigIntegerField(default=0, editable=False)
    last_message = models.ForeignKey(
        "chat.Message",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta(BaseModel.Meta):
        ordering: ClassVar[list[str]] = ["-updated_at", "-id"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["direct_key"],
                condition=LIVE & ~models.Q(direct_key=""),
                name="chat_room_direct_pair_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=RoomKind.values), name="chat_room_kind_valid"
            ),
            models.CheckConstraint(
                condition=(
                    (models.Q(kind=RoomKind.DIRECT) & ~models.Q(direct_key=""))
                    | models.Q(kind=RoomKind.GROUP, direct_key="")
                ),
                name="chat_room_direct_key_iff_direct",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=RoomKind.DIRECT) | ~models.Q(name=""),
                name="chat_room_group_has_name",
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["-updated_at"], name="chat_room_activity_idx"),
        ]

    def __str__(self) -> str:
        """The group's name, or "direct <id>"."""
        return self.name or f"direct {self.pk}"


class Membership(BaseModel):
    """A user in a room, and how far they have read (`last_read_seq`)."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_memberships"
    )
    role = models.CharField(max_length=6, choices=MemberRole.choices, default=MemberRole.MEMBER)
    last_read_seq = models.PositiveBigIntegerField(default=0, editable=False)
    last_read_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(BaseModel.Meta):
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["room", "user"], condition=LIVE, name="chat_membership_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=MemberRole.values), name="chat_membership_role_valid"
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["user", "room"], name="chat_membership_user_idx"),
        ]

    def __str__(self) -> str:
        """`user in room`."""
        return f"{self.user_id} in {self.room_id}"


class Message(BaseModel):
    """One message of a room: its number in the room, who sent it, what it says.

    `client_id` is the sender's own id for the message: a resend with the same one (a retry
    after a dropped connection) returns the first message instead of storing a second. It
    stays taken after a soft delete, so a late retry cannot bring a deleted message back.
    """

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="chat_messages"
    )
    seq = models.PositiveBigIntegerField(editable=False)
    body = models.CharField(max_length=BODY_MAX_LENGTH)
    client_id = models.CharField(max_length=CLIENT_ID_MAX_LENGTH, blank=True, default="")
    attachment = models.FileField(upload_to=attachment_path, max_length=255, blank=True)

    class Meta(BaseModel.Meta):
        ordering: ClassVar[list[str]] = ["room", "seq"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["room", "seq"], name="chat_message_room_seq_unique"),
            models.UniqueConstraint(
                fields=["sender", "client_id"],
                condition=~models.Q(client_id=""),
                name="chat_message_client_id_unique",
            ),
            models.CheckConstraint(
                condition=~models.Q(body=""), name="chat_message_body_not_empty"
            ),
            models.CheckConstraint(condition=models.Q(seq__gte=1), name="chat_message_seq_gte_1"),
        ]

    def __str__(self) -> str:
        """`#seq in room`."""
        return f"#{self.seq} in {self.room_id}"
