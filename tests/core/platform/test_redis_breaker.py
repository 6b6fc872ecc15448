"""The Redis circuit breaker (issue 12 review): a hung Redis costs one socket timeout, not
one per cache call."""

import socket
import time
from collections.abc import Iterator

import pytest
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from apps.core.platform.redis_breaker import BREAKER, BreakerRedis


@pytest.fixture
def hung_redis() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung Redis)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    BREAKER.reset()
    yield server.getsockname()[1]
    server.close()
    BREAKER.reset()


def test_after_one_timeout_calls_fail_at_once_until_the_breaker_closes(
    hung_redis: int, settings: pytest.FixtureRequest
) -> None:
    client = BreakerRedis(
        host="127.0.0.1", port=hung_redis, socket_timeout=0.25, retry=Retry(NoBackoff(), 0)
    )
    started = time.monotonic()
    with pytest.raises(RedisTimeoutError):
        client.get("key")
    first = time.monotonic() - started
    started = time.monotonic()
    for _ in range(20):
        with pytest.raises(RedisConnectionError):
            client.get("key")
    rest = time.monotonic() - started
    assert first >= 0.2
    assert rest < 0.2
    BREAKER.reset()  # the window passed: the next call tries Redis again
    with pytest.raises(RedisTimeoutError):
        client.get("key")
