"""Sending events to `/ws/notifications/` sockets from sync code (services, tasks).

Every event reaches the client as DESIGN.md's `{"type": "<event>", "data": {...}, "at": "<ISO
time>"}`: to one user's sockets (`notify_user`, `notify_users`), or to the sockets of a
declared audience (`notify_audience`; `notify_staff` for staff). The event must be declared
(`apps.core.platform.ws.events.notification_event`) for those sockets: an undeclared name
raises UndeclaredEventError, a send to other sockets or data of another shape raises
EventMisuseError, at the call, inside the caller's transaction. `data` (a mapping with
exactly the declared keys, or an object the serializer reads) goes out as the declared
serializer shapes it. The `*_on_commit` forms send only once the current transaction commits.
"""

import asyncio
import uuid
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from apps.core.platform.ws.consumers import STAFF, user_group
from apps.core.platform.ws.events import NotificationEvent, SocketAudience, event_data, event_for

NOTIFY_EVENT = "notify.event"  # the consumer's `notify_event` handler


def event_message(event: str, data: dict[str, Any]) -> dict[str, Any]:
    """The frame a client receives for `event`."""
    return {"type": event, "data": data, "at": timezone.now().isoformat()}


def _layer_message(event: NotificationEvent, data: dict[str, Any]) -> dict[str, Any]:
    """The channel-layer message that carries one frame to the consumers."""
    return {
        "type": NOTIFY_EVENT,
        "event": event_message(event.name, data),
        "regroup": event.regroup,
    }


def _send(group: str, message: dict[str, Any]) -> None:
    """One message to every socket in `group` (nothing when no channel layer is configured)."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, message)


def notify_user(user_id: uuid.UUID | str, event: str, data: Any) -> None:
    """Send `event` with `data` to every open `/ws/notifications/` socket of the user."""
    declared = event_for(event, None)
    _send(user_group(user_id), _layer_message(declared, event_data(declared, data)))


def notify_users(event: str, data_by_user: Iterable[tuple[uuid.UUID | str, Any]]) -> None:
    """Send `event` to many users at once, each with their own data: one hop to the event
    loop for all of them (their sends run concurrently), not one per user."""
    declared = event_for(event, None)
    sends = [
        (user_group(user_id), _layer_message(declared, event_data(declared, data)))
        for user_id, data in data_by_user
    ]
    layer = get_channel_layer()
    if layer is None or not sends:
        return

    async def send_all() -> None:
        await asyncio.gather(*(layer.group_send(group, message) for group, message in sends))

    async_to_sync(send_all)()


def notify_audience(audience: SocketAudience, event: str, data: Any) -> None:
    """Send `event` with `data` to every open `/ws/notifications/` socket of the audience."""
    declared = event_for(event, audience)
    _send(audience.group, _layer_message(declared, event_data(declared, data)))


def notify_staff(event: str, data: Any) -> None:
    """Send `event` with `data` to every open `/ws/notifications/` socket of a staff user."""
    notify_audience(STAFF, event, data)


def notify_user_on_commit(user_id: uuid.UUID | str, event: str, data: Any) -> None:
    """`notify_user` once the current transaction commits (never for a rolled-back one).
    The event is checked now; its data is shaped now, or, when `data` is a callable (no
    arguments), after commit from what it returns (the committed state, and no query inside
    the write's transaction)."""
    declared = event_for(event, None)
    group = user_group(user_id)
    if callable(data):

        def send() -> None:
            _send(group, _layer_message(declared, event_data(declared, data())))

    else:
        message = _layer_message(declared, event_data(declared, data))

        def send() -> None:
            _send(group, _stamped(message))

    transaction.on_commit(send, robust=True)


def notify_audience_on_commit(audience: SocketAudience, event: str, data: Any) -> None:
    """`notify_audience` once the current transaction commits (never for a rolled-back one).
    The event and its data are checked and shaped now."""
    declared = event_for(event, audience)
    message = _layer_message(declared, event_data(declared, data))
    transaction.on_commit(lambda: _send(audience.group, _stamped(message)), robust=True)


def notify_staff_on_commit(event: str, data: Any) -> None:
    """`notify_staff` once the current transaction commits (never for a rolled-back one)."""
    notify_audience_on_commit(STAFF, event, data)


def _stamped(message: dict[str, Any]) -> dict[str, Any]:
    """`message` with `at` set to now (the time it is sent, not shaped)."""
    return {**message, "event": {**message["event"], "at": timezone.now().isoformat()}}
