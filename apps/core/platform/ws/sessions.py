"""Closing a user's open sockets when their tokens are revoked (logout, password change)."""

import uuid
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

SESSION_REVOKED = "session.revoked"  # the consumers' `session_revoked` handler


def sessions_group(user_id: Any) -> str:
    """The channel-layer group of every socket of one user, whatever it serves."""
    return f"sessions.{user_id}"


def sessions_revoke_on_commit(user_id: uuid.UUID | str, jti: str | None = None) -> None:
    """Once the current transaction commits, close the user's open sockets whose token was
    revoked: the one with `jti`, or all of them."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            message = {"type": SESSION_REVOKED, "jti": jti}
            async_to_sync(layer.group_send)(sessions_group(user_id), message)

    transaction.on_commit(send, robust=True)
