"""Chat reads: the caller's rooms with their last message and unread count, a room's messages,
catch-up after a message, membership checks. Every list costs a fixed number of queries.
"""

import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import Count, Exists, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from rest_framework.exceptions import NotFound, ValidationError

from apps.chat.models import Membership, Message, Room

UserId = uuid.UUID | str
UNKNOWN_MESSAGE_MESSAGE = "No message with this id in this room."


def inbox_namespace(user_id: UserId) -> str:
    """The cache namespace of one user's rooms list: bumped when a message reaches one of
    their rooms, when they read, and when the rooms they are in change."""
    return f"chat.inbox:{user_id}"


def _unread_of(*, room: Any, user: Any, after: Any) -> Subquery:
    """Count of live messages of `room` after seq `after` that `user` did not send."""
    unread = (
        Message.objects.filter(room=room, seq__gt=after)
        .exclude(sender=user)
        .order_by()
        .values("room")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Subquery(unread, output_field=models.BigIntegerField())


def room_list_of(*, user_id: UserId) -> models.QuerySet[Room]:
    """The user's rooms, latest activity first, each with `unread_count` (computed by the
    database), its members and its last message: four queries whatever the number of rooms."""
    mine = Membership.objects.filter(room=OuterRef("pk"), user_id=user_id)
    members = Membership.objects.select_related("user").order_by("created_at", "id")
    return (
        Room.objects.filter(Exists(mine))
        .annotate(my_last_read=Subquery(mine.values("last_read_seq")[:1]))
        .annotate(
            unread_count=Coalesce(
                _unread_of(room=OuterRef("pk"), user=user_id, after=OuterRef("my_last_read")),
                0,
            )
        )
        .select_related("last_message__sender")
        .prefetch_related(Prefetch("memberships", queryset=members, to_attr="live_memberships"))
        .order_by("-updated_at", "-id")
    )


def room_of(*, room_id: Any, user_id: UserId) -> Room:
    """One of the user's rooms (as the list shows it); 404 for a non-member or unknown id."""
    try:
        return room_list_of(user_id=user_id).get(pk=room_id)
    except (Room.DoesNotExist, ValueError, DjangoValidationError) as exc:
        raise NotFound from exc


def room_of_member(*, room_id: Any, user_id: UserId) -> Room:
    """The room (no extras) when the user is a member; 404 otherwise."""
    mine = Membership.objects.filter(room=OuterRef("pk"), user_id=user_id)
    try:
        return Room.objects.filter(Exists(mine)).get(pk=room_id)
    except (Room.DoesNotExist, ValueError, DjangoValidationError) as exc:
        raise NotFound from exc


def room_is_member(*, room_id: Any, user_id: UserId) -> bool:
    """True when the user is a live member of the (live) room."""
    try:
        return Membership.objects.filter(
            room_id=room_id, user_id=user_id, room__is_deleted=False
        ).exists()
    except (ValueError, DjangoValidationError):  # not a UUID
        return False


def room_member_ids(*, room_id: Any) -> list[uuid.UUID]:
    """The ids of the room's live members."""
    return list(Membership.objects.filter(room_id=room_id).values_list("user_id", flat=True))


def message_list() -> models.QuerySet[Message]:
    """Messages with their sender, deleted ones included (they show as tombstones)."""
    return Message.all_objects.select_related("sender")


def message_list_of(*, room_id: Any) -> models.QuerySet[Message]:
    """A room's messages, newest first."""
    return message_list().filter(room_id=room_id).order_by("-seq")


def message_seq_in_room(*, room_id: Any, message_id: Any, attr: str) -> int:
    """The number of a message of the room (deleted ones too); 400 on `attr` otherwise."""
    try:
        seq = (
            Message.all_objects.filter(room_id=room_id, pk=message_id)
            .values_list("seq", flat=True)
            .first()
        )
    except (ValueError, DjangoValidationError):  # not a UUID
        seq = None
    if seq is None:
        raise ValidationError({attr: [UNKNOWN_MESSAGE_MESSAGE]}, code="invalid")
    return int(seq)


def message_list_attachable(user: Any) -> models.QuerySet[Message]:
    """The messages `user` may put an attachment on: their own, in rooms they are still in."""
    still_in = Membership.objects.filter(room=OuterRef("room"), user=user)
    return Message.objects.filter(Exists(still_in), sender=user)


def room_seq_for_member(*, room_id: Any, user_id: UserId) -> int | None:
    """The room's latest message number when the user is a member of it, else None."""
    try:
        seq = (
            Membership.objects.filter(room_id=room_id, user_id=user_id, room__is_deleted=False)
            .values_list("room__last_seq", flat=True)
            .first()
        )
    except (ValueError, DjangoValidationError):  # not a UUID
        return None
    return None if seq is None else int(seq)


def message_list_after(
    *, room_id: Any, after_seq: int, before_seq: int | None = None
) -> models.QuerySet[Message]:
    """The room's messages numbered after `after_seq` (and before `before_seq`), oldest first
    (catch-up)."""
    messages = message_list().filter(room_id=room_id, seq__gt=after_seq)
    if before_seq is not None:
        messages = messages.filter(seq__lt=before_seq)
    return messages.order_by("seq")


def room_unread_counts(*, room_id: Any, user_ids: list[Any]) -> dict[uuid.UUID, int]:
    """`{user id: unread count}` in the room for these members, in one query."""
    rows = (
        Membership.objects.filter(room_id=room_id, user_id__in=user_ids)
        .annotate(
            unread=Coalesce(
                _unread_of(
                    room=OuterRef("room"), user=OuterRef("user"), after=OuterRef("last_read_seq")
                ),
                0,
            )
        )
        .values_list("user_id", "unread")
    )
    return {user_id: int(unread) for user_id, unread in rows}


def users_active_by_ids(*, ids: list[Any]) -> dict[str, Any]:
    """`{str(id): user}` of the active users among `ids`."""
    users = get_user_model().objects.filter(pk__in=ids, is_active=True)
    return {str(user.pk): user for user in users}


def message_live_latest(*, room_id: Any) -> Message | None:
    """The room's newest message that is not deleted."""
    return Message.objects.filter(room_id=room_id).order_by("-seq").first()


def membership_of(*, room_id: Any, user_id: UserId) -> Membership | None:
    """The user's live membership of the room."""
    return Membership.objects.filter(room_id=room_id, user_id=user_id).first()


def direct_room_of_pair(*, key: str) -> Room | None:
    """The live direct room of a pair key."""
    return Room.objects.filter(direct_key=key).first()
