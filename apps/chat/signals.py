"""Chat receivers on every core write of a room, membership or message (API, socket, admin,
trash): the members' cached rooms lists go stale, a room's `last_message` follows deletes and
restores, and the room's sockets hear of deletes, restores and stored attachments.

Whatever path a write takes, the rooms list and the sockets see the same thing.
"""

import uuid
from typing import Any

from apps.chat.models import Membership, Message, Room
from apps.chat.services import (
    inboxes_bump,
    message_changed_announce,
    message_deleted_announce,
    room_last_message_refresh,
)
from apps.core.models.audit import AuditAction
from apps.core.records.changes import Change, model_changed

GONE = (AuditAction.DELETE, AuditAction.PURGE)


def _room_id(instance: Any) -> uuid.UUID:
    """The room a room, membership or message belongs to."""
    return instance.pk if isinstance(instance, Room) else instance.room_id


def chat_rows_changed(sender: Any, action: str, changes: list[Change], **kwargs: Any) -> None:
    """Make the rooms lists stale (every member of each room touched, and a removed member),
    and keep messages' rooms and sockets in step."""
    if sender not in (Room, Membership, Message):
        return
    rooms = {_room_id(change.instance) for change in changes}
    extra = [c.instance.user_id for c in changes if isinstance(c.instance, Membership)]
    inboxes_bump(room_ids=rooms, user_ids=extra)
    if sender is not Message or action == AuditAction.CREATE:
        return
    for change in changes:
        message = change.instance
        if not isinstance(message, Message):
            continue
        if action in (*GONE, AuditAction.RESTORE):
            room_last_message_refresh(room_id=message.room_id)
        if action in GONE:
            message_deleted_announce(message)
        elif action == AuditAction.RESTORE or _attachment_changed(change, message):
            message_changed_announce(message)


def _attachment_changed(change: Change, message: Message) -> bool:
    """True when the update stored (or replaced) the message's attachment."""
    before = change.before or {}
    return before.get("attachment") != (message.attachment.name or None)


model_changed.connect(chat_rows_changed, dispatch_uid="chat.rows_changed")
