"""Chat receivers: every core write of a room, membership or message (API, socket, admin,
trash) makes its members' cached rooms lists stale; an attachment stored on a message is
announced to the room's sockets."""

import uuid
from typing import Any

from apps.chat.models import Membership, Message, Room
from apps.chat.selectors import inbox_namespace, room_member_ids
from apps.chat.services import message_attachment_announce
from apps.core.models.audit import AuditAction
from apps.core.platform.cache import namespace_bump
from apps.core.records.changes import Change, model_changed


def _room_id(instance: Any) -> uuid.UUID:
    """The room a room, membership or message belongs to."""
    return instance.pk if isinstance(instance, Room) else instance.room_id


def chat_rows_changed(sender: Any, action: str, changes: list[Change], **kwargs: Any) -> None:
    """Bump the rooms list of every member of the rooms touched (and of a removed member)."""
    if sender not in (Room, Membership, Message):
        return
    users: set[uuid.UUID] = set()
    for room_id in {_room_id(change.instance) for change in changes}:
        users.update(room_member_ids(room_id=room_id))
    if sender is Membership:
        users.update(
            change.instance.user_id for change in changes if isinstance(change.instance, Membership)
        )
    for user_id in users:
        namespace_bump(inbox_namespace(user_id))
    if sender is Message and action == AuditAction.UPDATE:
        for change in changes:
            message = change.instance
            if not isinstance(message, Message):
                continue
            before = change.before or {}
            if before.get("attachment") != (message.attachment.name or None):
                message_attachment_announce(message)


model_changed.connect(chat_rows_changed, dispatch_uid="chat.rows_changed")
