"""Sending events to `/ws/notifications/` sockets from sync code (services, tasks).

Every event reaches the client as DESIGN.md's `{"type": "<event>", "data": {...}, "at": "<ISO
time>"}`, to one user's sockets (`notify_user`) or to every staff member's (`notify_staff`).
The `*_on_commit` forms send only once the current transaction commits.
"""

import asyncio
import uuid
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from apps.core.platform.ws.consumers import STAFF_GROUP, user_group


def event_message(event: str, data: dict[str, Any]) -> dict[str, Any]:
    """The frame a client receives for `event`."""
    return {"type": event, "data": data, "at": timezone.now().isoformat()}


def _send(group: str, event: str, data: dict[str, Any]) -> None:
    """One event to every socket in `group` (nothing when no channel layer is configured)."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "notify.event", "event": event_message(event, data)}
    async_to_sync(layer.group_send)(group, message)


def notify_user(user_id: uuid.UUID | str, event: str, data: dict[str, Any]) -> None:
    """Send `event` with `data` to every open `/ws/notifications/` socket of the user."""
    _send(user_group(user_id), event, data)


def notify_users(
    event: str, data_by_user: Iterable[tuple[uuid.UUID | str, dict[str, Any]]]
) -> None:
    """Send `event` to many users at once, each with their own data: one hop to the event
    loop for all of them (their sends run concurrently), not one per user."""
    layer = get_channel_layer()
    sends = [(user_group(user_id), data) for user_id, data in data_by_user]
    if layer is None or not sends:
        return

    async def send_all() -> None:
        await asyncio.gather(
            *(
                layer.group_send(
                    group, {"type": "notify.event", "event": event_message(event, data)}
                )
                for group, data in sends
            )
        )

    async_to_sync(send_all)()


def notify_staff(event: str, data: dict[str, Any]) -> None:
    """Send `event` with `data` to every open `/ws/notifications/` socket of a staff user."""
    _send(STAFF_GROUP, event, data)


def notify_user_on_commit(user_id: uuid.UUID | str, event: str, data: dict[str, Any]) -> None:
    """`notify_user` once the current transaction commits (never for a rolled-back one)."""
    transaction.on_commit(lambda: notify_user(user_id, event, data), robust=True)


def notify_staff_on_commit(event: str, data: dict[str, Any]) -> None:
    """`notify_staff` once the current transaction commits (never for a rolled-back one)."""
    transaction.on_commit(lambda: notify_staff(event, data), robust=True)
