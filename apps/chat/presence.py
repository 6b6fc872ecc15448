"""Who has a room open: a count of open sockets per room and user, in the shared cache.

`chat.unread` goes to the members who do not have the room open; a member looking at the room
gets the message itself. Each open socket counts once (connect adds one, disconnect takes it
away) and refreshes the count's lifetime while it stays open, so a server process that dies
without closing its sockets leaves a count that expires within `PRESENCE_TTL_SECONDS`. With
the cache down nobody is present, and every member gets `chat.unread`: never too few events.
"""

import uuid
from typing import Any

from django.core.cache import cache

PRESENCE_TTL_SECONDS = 120
PRESENCE_REFRESH_SECONDS = 45


def _key(room_id: Any, user_id: Any) -> str:
    """The cache key of one user's open sockets on one room."""
    return f"chat:presence:{room_id}:{user_id}"


def presence_enter(*, room_id: Any, user_id: Any) -> None:
    """One more open socket of the user on the room."""
    key = _key(room_id, user_id)
    if not cache.add(key, 1, timeout=PRESENCE_TTL_SECONDS):
        try:
            cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.add(key, 1, timeout=PRESENCE_TTL_SECONDS)
    cache.touch(key, PRESENCE_TTL_SECONDS)


def presence_refresh(*, room_id: Any, user_id: Any) -> None:
    """Keep the count alive while the socket is open."""
    if not cache.touch(_key(room_id, user_id), PRESENCE_TTL_SECONDS):
        cache.add(_key(room_id, user_id), 1, timeout=PRESENCE_TTL_SECONDS)


def presence_leave(*, room_id: Any, user_id: Any) -> None:
    """One open socket fewer; the key goes when none is left."""
    key = _key(room_id, user_id)
    try:
        remaining = cache.decr(key)
    except ValueError:  # already expired
        return
    if remaining is not None and remaining <= 0:
        cache.delete(key)


def present_user_ids(*, room_id: Any, user_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """The users among `user_ids` with the room open now (one cache round trip)."""
    keys = {_key(room_id, user_id): user_id for user_id in user_ids}
    found = cache.get_many(list(keys))
    return {keys[key] for key, count in found.items() if count and int(count) > 0}
