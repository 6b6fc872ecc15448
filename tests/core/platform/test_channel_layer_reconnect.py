"""The channel layer survives Redis dropping its connections (a restart, an idle timeout).

Found by the cluster smoke test (issue 15): after a Redis restart, the first WebSocket each
server process accepted failed with a 500, its pooled connection to Redis being closed.
"""

import asyncio
from typing import Any

import pytest
import redis
from channels.layers import get_channel_layer
from django.conf import settings

pytestmark = pytest.mark.services

GROUP = "reconnect-drill"


def drop_connections_of_this_database() -> int:
    """Close, from Redis' side, every client connection on this test's Redis database (as a
    restart does to a pool), except the one asking; how many were closed."""
    admin = redis.Redis.from_url(settings.REDIS_URL)
    database = admin.connection_pool.connection_kwargs.get("db", 0)
    me = admin.client_id()
    closed = 0
    for client in admin.client_list():
        if int(client["db"]) == database and int(client["id"]) != me:
            closed += admin.client_kill_filter(_id=client["id"])
    admin.close()
    return closed


async def test_a_group_call_after_redis_closed_the_pooled_connection_succeeds() -> None:
    layer: Any = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(GROUP, channel)  # the pool now holds an open connection

    assert await asyncio.to_thread(drop_connections_of_this_database) >= 1

    await layer.group_add(GROUP, channel)  # raised "Connection closed by server" before
    await layer.group_send(GROUP, {"type": "drill.message", "n": 1})
    message = await asyncio.wait_for(layer.receive(channel), 2)
    assert message == {"type": "drill.message", "n": 1}
    await layer.group_discard(GROUP, channel)
