"""Readiness checks: each probes one dependency and raises when it is not usable."""

import asyncio
import uuid
from collections.abc import Callable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import caches
from django.db import connections

CheckFn = Callable[[], None]


def check_database() -> None:
    """The default database answers a trivial statement."""
    # Raw SQL on purpose: a connectivity ping has no ORM form and touches no table.
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    """The default cache stores and returns a value."""
    cache = caches["default"]
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=5)
    value = cache.get(key)
    cache.delete(key)
    if value != "ok":
        raise RuntimeError("cache did not return the value it was given")


def check_broker() -> None:
    """The Celery broker accepts a connection (memory:// on the embedded default)."""
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=settings.HEALTH_CHECK_TIMEOUT_SECONDS)


def check_channel_layer() -> None:
    """The channel layer carries a message to a fresh channel and back."""
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")

    async def round_trip() -> None:
        channel = await layer.new_channel("health.")
        await layer.send(channel, {"type": "health.ping"})
        await layer.receive(channel)

    async def bounded() -> None:
        await asyncio.wait_for(round_trip(), timeout=settings.HEALTH_CHECK_TIMEOUT_SECONDS)

    async_to_sync(bounded)()


READINESS_CHECKS: dict[str, CheckFn] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "channel_layer": check_channel_layer,
}


def run_readiness_checks() -> dict[str, str]:
    """`{part: "ok" | "unavailable"}` for every dependency, each probed independently."""
    results: dict[str, str] = {}
    for name, check in READINESS_CHECKS.items():
        try:
            check()
        except Exception:  # noqa: BLE001 - any failure means "not ready"; logged by the view
            results[name] = "unavailable"
        else:
            results[name] = "ok"
    return results
