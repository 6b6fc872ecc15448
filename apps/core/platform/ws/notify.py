"""Sending events to users' WebSocket connections from sync code (services, tasks)."""

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from apps.core.platform.ws.consumers import user_group


def notify_user(user_id: Any, event: str, payload: dict[str, Any]) -> None:
    """Send `event` with `payload` to every open `/ws/notifications/` socket of the user."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "notify.event", "event": event, "payload": payload}
    async_to_sync(layer.group_send)(user_group(user_id), message)


def notify_user_on_commit(user_id: Any, event: str, payload: dict[str, Any]) -> None:
    """`notify_user` once the current transaction commits (never for a rolled-back one)."""
    transaction.on_commit(lambda: notify_user(user_id, event, payload))
