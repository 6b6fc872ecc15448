"""A circuit breaker in front of Redis: after a connection error or timeout, calls fail at
once for a few seconds instead of each waiting out the socket timeout.

A Redis that is down refuses at once, but a hung one makes every call wait
`REDIS_SOCKET_TIMEOUT`, and a request makes about twenty cache calls. While the breaker is
open the `default` cache misses at once (fail open) and the `guard` cache raises at once
(fail closed: 503 where it must). After `REDIS_BREAKER_SECONDS` one call tries Redis again;
its success closes the breaker, its failure opens it again. The state is per process.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from apps.core.platform.pause import Pause

OPEN_MESSAGE = "Redis circuit open after a recent failure; not trying for a few seconds."


BREAKER = Pause(lambda: float(settings.REDIS_BREAKER_SECONDS))


class BreakerRedis(Redis):
    """redis-py's client with the breaker around every command (django-redis builds it
    through the `REDIS_CLIENT_CLASS` option)."""

    def execute_command(self, *args: Any, **options: Any) -> Any:
        """Run a command unless the breaker is open; a connection failure opens it."""
        if BREAKER.active():
            raise RedisConnectionError(OPEN_MESSAGE)
        try:
            return super().execute_command(*args, **options)
        except (RedisConnectionError, RedisTimeoutError):
            BREAKER.start()
            raise


def pipeline_run(client: Redis, build: Callable[[Any], None]) -> list[Any]:
    """Several commands in one round trip (`build` queues them on a pipeline), under the
    breaker as a single command of a BreakerRedis client is: a pipeline does not go through
    `execute_command`. Another client (a cache configured without the breaker) runs it plain."""
    guarded = isinstance(client, BreakerRedis)
    if guarded and BREAKER.active():
        raise RedisConnectionError(OPEN_MESSAGE)
    pipeline = client.pipeline(transaction=False)
    build(pipeline)
    try:
        return list(pipeline.execute())
    except (RedisConnectionError, RedisTimeoutError):
        if guarded:
            BREAKER.start()
        raise
