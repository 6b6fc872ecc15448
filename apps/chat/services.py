"""Chat writes, shared by REST and the sockets: rooms, members, messages, read markers.

Every write is one transaction; what others must see (the message on every socket of the
room, `chat.unread` to members without the room open, read receipts, a removed member's
sockets closing) is sent only after it commits, so a rolled-back write is never announced.
A member's rooms list is cached per user (apps.chat.selectors.inbox_namespace): every core
write of a room, membership or message bumps it (apps.chat.signals), a read marker here.
Sends, removals and deletes of one room take the room's row lock first, so they serialize:
a member removed before a send commits cannot send into the room, and numbers follow commit
order.
"""

import uuid
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from apps.chat import events
from apps.chat.models import MemberRole, Membership, Message, Room, RoomKind
from apps.chat.presence import present_user_ids
from apps.chat.selectors import (
    direct_room_of_pair,
    inbox_namespace,
    membership_of,
    message_live_latest,
    message_seq_in_room,
    room_member_ids,
    room_unread_counts,
    users_active_by_ids,
)
from apps.core.platform.cache import namespace_bump, namespaces_bump
from apps.core.platform.ws.notify import notify_user, notify_users
from apps.core.records.services import (
    Actor,
    object_bulk_create,
    object_create,
    object_soft_delete,
)

UserId = uuid.UUID | str
NOT_YOURSELF_MESSAGE = "You cannot start a direct room with yourself."
UNKNOWN_USERS_MESSAGE = "Unknown or inactive user: {ids}."
NOT_A_GROUP_MESSAGE = "Members of a direct room cannot change."
OWNER_ONLY_MESSAGE = "Only the room's owner may change its members."
ALREADY_MEMBER_MESSAGE = "This user is already a member of the room."
NOT_A_MEMBER_MESSAGE = "This user is not a member of the room."
LAST_OWNER_MESSAGE = "The owner cannot leave the room; remove the other members first."
DELETE_FORBIDDEN_MESSAGE = "Only the sender or a moderator may delete this message."
CLIENT_ID_OTHER_ROOM_MESSAGE = "This client_id was already used for a message in another room."


def direct_key(a: UserId, b: UserId) -> str:
    """The pair key of a direct room: the same whoever starts it."""
    low, high = sorted((str(a), str(b)))
    return f"{low}:{high}"


def inboxes_bump(*, room_ids: Iterable[Any], user_ids: Iterable[UserId] = ()) -> None:
    """The rooms lists of every member of these rooms (and of `user_ids`) are stale: one query
    and one cache round trip, now and after commit, whatever the number of members."""
    members = Membership.objects.filter(room_id__in=list(room_ids)).values_list(
        "user_id", flat=True
    )
    namespaces_bump(inbox_namespace(user_id) for user_id in {*members, *user_ids})


def room_last_message_refresh(*, room_id: UserId) -> None:
    """Point the room at its newest live message (after a delete, restore or purge)."""
    Room.all_objects.filter(pk=room_id).update(last_message=message_live_latest(room_id=room_id))


def message_deleted_announce(message: Message) -> None:
    """After commit: `message.deleted` to the room's sockets."""
    transaction.on_commit(
        lambda: events.room_broadcast(message.room_id, events.message_deleted_frame(message.pk)),
        robust=True,
    )


def message_changed_announce(message: Message) -> None:
    """After commit: `message.updated` (restored, or an attachment stored) to the room's
    sockets."""
    transaction.on_commit(
        lambda: events.room_broadcast(message.room_id, events.message_updated_frame(message)),
        robust=True,
    )


def _room_lock(room_id: UserId) -> int:
    """Take the room's row lock until commit (a write that changes nothing); 1 when the live
    room exists, else 0."""
    return Room.objects.filter(pk=room_id).update(last_seq=F("last_seq"))


def _users_require(ids: Iterable[Any], *, attr: str) -> dict[str, Any]:
    """`{id: user}` for every id, all active users; 400 on `attr` naming the others."""
    wanted = {str(user_id) for user_id in ids}
    found = users_active_by_ids(ids=sorted(wanted))
    missing = sorted(wanted - set(found))
    if missing:
        message = UNKNOWN_USERS_MESSAGE.format(ids=", ".join(missing))
        raise ValidationError({attr: [message]}, code="invalid")
    return found


def _membership_create(*, room: Room, user: Any, role: str, read_to: int = 0) -> Membership:
    """A new live membership, audited."""
    return object_create(
        model=Membership, data={"room": room, "user": user, "role": role, "last_read_seq": read_to}
    )


def room_create_direct(*, creator: Any, other_id: UserId) -> tuple[Room, bool]:
    """The direct room of `creator` and the other user: `(room, True)` when created now,
    `(existing room, False)` when the pair already has one, also when both start it at once
    (the database's unique pair key decides, the loser reads the winner's room)."""
    if str(other_id) == str(creator.pk):
        raise ValidationError({"members": [NOT_YOURSELF_MESSAGE]}, code="invalid")
    other = _users_require([other_id], attr="members")[str(other_id)]
    key = direct_key(creator.pk, other.pk)
    existing = direct_room_of_pair(key=key)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            room = object_create(
                model=Room,
                data={"kind": RoomKind.DIRECT, "direct_key": key, "created_by": creator},
            )
            # Nobody owns a direct room: each deletes only their own messages.
            object_bulk_create(
                model=Membership,
                items=[
                    {"room": room, "user": creator, "role": MemberRole.MEMBER},
                    {"room": room, "user": other, "role": MemberRole.MEMBER},
                ],
            )
    except IntegrityError:
        winner = direct_room_of_pair(key=key)
        if winner is None:  # not the pair key that failed
            raise
        return winner, False
    return room, True


def room_create_group(*, creator: Any, name: str, member_ids: Iterable[UserId]) -> Room:
    """A named group of `creator` (its owner) and the given users."""
    others = _users_require({str(i) for i in member_ids} - {str(creator.pk)}, attr="members")
    with transaction.atomic():
        room = object_create(
            model=Room, data={"kind": RoomKind.GROUP, "name": name, "created_by": creator}
        )
        object_bulk_create(
            model=Membership,
            items=[
                {"room": room, "user": creator, "role": MemberRole.OWNER},
                *(
                    {"room": room, "user": user, "role": MemberRole.MEMBER}
                    for user in others.values()
                ),
            ],
        )
    return room


def _owned_group(*, room: Room, by: Any) -> None:
    """400 on `user` for a direct room, 403 unless `by` owns the group."""
    if room.kind != RoomKind.GROUP:
        raise ValidationError({"user": [NOT_A_GROUP_MESSAGE]}, code="invalid")
    mine = membership_of(room_id=room.pk, user_id=by.pk)
    if mine is None or mine.role != MemberRole.OWNER:
        raise PermissionDenied(OWNER_ONLY_MESSAGE)


def room_member_add(*, room: Room, user_id: UserId, by: Any) -> Membership:
    """The owner adds a user to a group; they start with nothing unread."""
    _owned_group(room=room, by=by)
    user = _users_require([user_id], attr="user")[str(user_id)]
    try:
        with transaction.atomic():
            read_to = Room.objects.filter(pk=room.pk).values_list("last_seq", flat=True).get()
            membership = _membership_create(
                room=room, user=user, role=MemberRole.MEMBER, read_to=read_to
            )
    except IntegrityError as exc:
        raise ValidationError({"user": [ALREADY_MEMBER_MESSAGE]}, code="invalid") from exc
    return membership


def room_member_remove(*, room: Room, user_id: UserId, by: Any) -> None:
    """The owner removes a member, or a member leaves; the removed user's sockets on the room
    close (4403) once it commits."""
    if str(user_id) != str(by.pk):
        _owned_group(room=room, by=by)
    elif room.kind != RoomKind.GROUP:
        raise ValidationError({"user": [NOT_A_GROUP_MESSAGE]}, code="invalid")
    membership = membership_of(room_id=room.pk, user_id=user_id)
    if membership is None:
        raise NotFound(NOT_A_MEMBER_MESSAGE)
    if membership.role == MemberRole.OWNER and len(room_member_ids(room_id=room.pk)) > 1:
        raise ValidationError({"user": [LAST_OWNER_MESSAGE]}, code="invalid")
    with transaction.atomic():
        _room_lock(room.pk)  # a send racing the removal commits before it, or fails with 404
        object_soft_delete(instance=membership, actor=by)
        transaction.on_commit(
            lambda: events.room_member_removed_broadcast(room.pk, user_id), robust=True
        )


def _client_id_replay(*, room_id: UserId, sender: Any, client_id: str | None) -> Message | None:
    """The sender's earlier message with this `client_id` (409 when it is in another room)."""
    if not client_id:
        return None
    earlier = Message.all_objects.select_related("sender").filter(
        sender=sender, client_id=client_id
    )
    first = earlier.first()
    if first is not None and str(first.room_id) != str(room_id):
        raise ValidationError({"client_id": [CLIENT_ID_OTHER_ROOM_MESSAGE]}, code="invalid")
    return first


def message_send(
    *, room_id: UserId, sender: Any, body: str, client_id: str | None = None
) -> tuple[Message, bool]:
    """Store a message and announce it: `(message, True)`, or `(first message, False)` for a
    resend with a `client_id` the sender already used in this room (nothing announced again).

    404 when the sender is not a member. The room's counter gives the message its number and
    holds the room's row lock until commit, so numbers follow commit order.
    """
    if membership_of(room_id=room_id, user_id=sender.pk) is None:
        raise NotFound
    replay = _client_id_replay(room_id=room_id, sender=sender, client_id=client_id)
    if replay is not None:
        return replay, False
    try:
        with transaction.atomic():
            now = timezone.now()
            bumped = Room.objects.filter(pk=room_id).update(
                last_seq=F("last_seq") + 1, updated_at=now
            )
            if not bumped:
                raise NotFound
            if membership_of(room_id=room_id, user_id=sender.pk) is None:
                raise NotFound  # removed while we waited for the lock
            replay = _client_id_replay(room_id=room_id, sender=sender, client_id=client_id)
            if replay is not None:  # a parallel resend committed while we waited for the lock
                transaction.set_rollback(True)
                return replay, False
            seq = Room.objects.filter(pk=room_id).values_list("last_seq", flat=True).get()
            message = object_create(
                model=Message,
                data={
                    "room_id": room_id,
                    "sender": sender,
                    "seq": seq,
                    "body": body,
                    "client_id": client_id or "",
                },
            )
            Room.objects.filter(pk=room_id).update(last_message=message)
            Membership.objects.filter(room_id=room_id, user=sender, last_read_seq__lt=seq).update(
                last_read_seq=seq, last_read_at=now
            )
            transaction.on_commit(lambda: _message_announce(message), robust=True)
    except IntegrityError:  # the same client_id committed in another room meanwhile
        replay = _client_id_replay(room_id=room_id, sender=sender, client_id=client_id)
        if replay is None:
            raise
        return replay, False
    return message, True


def _message_announce(message: Message) -> None:
    """After commit: the message to the room's sockets, `chat.unread` to the other members
    who do not have the room open."""
    events.room_broadcast(message.room_id, events.message_new_frame(message), seq=message.seq)
    members = room_member_ids(room_id=message.room_id)
    others = [user_id for user_id in members if user_id != message.sender_id]
    present = present_user_ids(room_id=message.room_id, user_ids=others)
    away = [user_id for user_id in others if user_id not in present]
    unread_notify(room_id=message.room_id, user_ids=away)


def unread_notify(*, room_id: UserId, user_ids: list[uuid.UUID]) -> None:
    """`chat.unread` with each user's count in the room to their notification sockets."""
    if not user_ids:
        return
    counts = room_unread_counts(room_id=room_id, user_ids=user_ids)
    notify_users(
        events.CHAT_UNREAD,
        ((user_id, events.unread_data(room_id, count)) for user_id, count in counts.items()),
    )


def message_delete(*, message: Message, actor: Actor, moderator: bool) -> None:
    """Soft delete a message: by its sender, the owner of its group, or a moderator
    (`moderator`: the caller's scope on messages is `all`). The room's last message, every
    member's unread count and the room's sockets follow (apps.chat.signals)."""
    actor_id = actor.pk if actor is not None else None
    is_sender = actor_id is not None and str(message.sender_id) == str(actor_id)
    owner = actor_id is not None and (
        (membership := membership_of(room_id=message.room_id, user_id=actor_id)) is not None
        and membership.role == MemberRole.OWNER
    )
    if not (is_sender or owner or moderator):
        raise PermissionDenied(DELETE_FORBIDDEN_MESSAGE)
    with transaction.atomic():
        _room_lock(message.room_id)
        object_soft_delete(instance=message, actor=actor)


def room_mark_read(*, room_id: UserId, user: Any, message_id: UserId) -> int:
    """Mark the room read up to a message (never backwards) and answer the unread count.

    404 for a non-member, 400 on `message_id` for a message not in the room. When the marker
    moves, the room's sockets get `read` and the reader's other devices `chat.unread`.
    """
    if membership_of(room_id=room_id, user_id=user.pk) is None:
        raise NotFound
    seq = message_seq_in_room(room_id=room_id, message_id=message_id, attr="message_id")
    with transaction.atomic():
        moved = Membership.objects.filter(room_id=room_id, user=user, last_read_seq__lt=seq).update(
            last_read_seq=seq, last_read_at=timezone.now()
        )
        count = room_unread_counts(room_id=room_id, user_ids=[user.pk]).get(user.pk, 0)
        if moved:
            namespace_bump(inbox_namespace(user.pk))
            transaction.on_commit(
                lambda: _read_announce(room_id, user.pk, message_id, count), robust=True
            )
    return count


def _read_announce(room_id: UserId, user_id: UserId, message_id: UserId, count: int) -> None:
    """After commit: the read receipt to the room, the new count to the reader's devices."""
    events.room_broadcast(room_id, events.read_frame(user_id, message_id))
    notify_user(user_id, events.CHAT_UNREAD, events.unread_data(room_id, count))
