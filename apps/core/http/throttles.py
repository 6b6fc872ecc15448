"""Throttles whose counters are atomic, so parallel requests cannot slip past a limit.

DRF's SimpleRateThrottle reads a history list from the cache, appends and writes it back:
concurrent requests overwrite each other's writes, so 20 parallel logins got 16 tries past a
limit of 5 across workers. These count in a fixed window with `cache.add` + `cache.incr`,
which are atomic in Redis (and under a lock in the local-memory cache).
"""

import logging
import threading
from typing import Any

from django.conf import settings
from django.core.cache import caches
from redis.exceptions import RedisError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import (
    AnonRateThrottle,
    ScopedRateThrottle,
    SimpleRateThrottle,
    UserRateThrottle,
)

from apps.core.http.permissions import is_public_action
from apps.core.platform.redis_breaker import pipeline_run

logger = logging.getLogger("apps.throttles")
LOCAL_KEYS_MAX = 10_000  # clients one process tracks before it drops those of past windows


class LocalWindows:
    """An in-process fixed-window counter: the stand-in while the shared cache is down (each
    server process then limits on its own, which is looser but never unlimited)."""

    def __init__(self) -> None:
        """Empty counters."""
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._window: dict[str, int] = {}

    def incr(self, key: str, window: int) -> int:
        """Count one request for `key` in `window`; answers the count so far."""
        with self._lock:
            if self._window.get(key) != window:
                self._window[key], self._counts[key] = window, 0
                if len(self._window) > LOCAL_KEYS_MAX:  # forget keys of earlier windows
                    stale = [k for k, w in self._window.items() if w != window]
                    for old in stale:
                        del self._window[old], self._counts[old]
            self._counts[key] += 1
            return self._counts[key]


LOCAL_WINDOWS = LocalWindows()


class AtomicWindowThrottle(SimpleRateThrottle):
    """Fixed-window counting for any SimpleRateThrottle (`rate` requests per window).

    Counters live on the `guard` cache (Redis in services mode). When it is down, a
    security-critical scope (`THROTTLE_FAIL_CLOSED_SCOPES`: login, password reset, payments)
    refuses the request (503); every other rate falls back to counting in this process, so
    reads and ordinary writes keep working through a Redis outage.
    """

    @property
    def cache(self) -> Any:  # type: ignore[override]
        """The fail-closed `guard` cache (looked up per use, so settings changes apply)."""
        return caches["guard"]

    num_requests: int
    duration: int
    now: float
    window_end: float

    def allow_request(self, request: Request, view: Any) -> bool:
        """Count this request in the current window; refuse past the limit."""
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        window_key = f"{self.key}:{window}"
        self.window_end = (window + 1) * self.duration
        try:
            count = self._count(window_key)
        except RedisError:
            if self.fails_closed():
                raise  # 503 service_unavailable (apps.core.http.handler)
            logger.warning("throttle_cache_unavailable", extra={"key": self.key})
            count = LOCAL_WINDOWS.incr(self.key, window)
        return bool(count <= self.num_requests)

    def _count(self, window_key: str) -> int:
        """Count this request in the shared window; answers the count so far. On Redis the
        window is created and counted in one round trip (`SET NX` + `INCR`, pipelined)."""
        client = getattr(self.cache, "client", None)
        if client is not None and hasattr(client, "get_client"):  # django-redis
            key = client.make_key(window_key)
            ttl = self.duration + 1

            def count(pipeline: Any) -> None:
                pipeline.set(key, 0, nx=True, ex=ttl)
                pipeline.incr(key)

            return int(pipeline_run(client.get_client(write=True), count)[-1])
        self.cache.add(window_key, 0, timeout=self.duration + 1)
        try:
            return int(self.cache.incr(window_key))
        except ValueError:  # the window expired between add and incr
            self.cache.add(window_key, 1, timeout=self.duration + 1)
            return 1

    def fails_closed(self) -> bool:
        """Whether this rate refuses requests while its counters are unreachable."""
        scope = getattr(self, "scope", None)
        return scope in settings.THROTTLE_FAIL_CLOSED_SCOPES

    def wait(self) -> float:
        """Seconds until the window resets (at least 1)."""
        return max(1.0, self.window_end - self.now)


def is_public_read(request: Request, view: Any) -> bool:
    """A safe request to one of the view's `public_actions` (the catalog's list and detail)."""
    return request.method in SAFE_METHODS and is_public_action(view)


class AtomicAnonRateThrottle(AnonRateThrottle, AtomicWindowThrottle):
    """`anon` rate per client address, atomic. Public reads are left to the `public_read`
    rate (an infinite-scroll page of the public catalog would spend 20/min in seconds)."""

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        """The address's key; None (not counted here) for public reads."""
        if is_public_read(request, view):
            return None
        return super().get_cache_key(request, view)


class AtomicPublicReadRateThrottle(AnonRateThrottle, AtomicWindowThrottle):
    """`public_read` rate per client address for anonymous reads of `public_actions`,
    atomic: generous enough for an infinite-scroll page and a shared office address."""

    scope = "public_read"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        """The address's key for an anonymous public read; None for anything else."""
        if not is_public_read(request, view):
            return None
        return super().get_cache_key(request, view)


class AtomicUserRateThrottle(UserRateThrottle, AtomicWindowThrottle):
    """`user` rate per signed-in user, atomic. Anonymous callers are left to the `anon` rate
    (DRF's would count them a second time, by address: two more cache round trips)."""

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        """The user's key; None (not counted here) for anonymous callers."""
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)


class AtomicScopedRateThrottle(ScopedRateThrottle, AtomicWindowThrottle):
    """The rate of the view's `throttle_scope` (login, register, ...), atomic."""


# Views that set `throttle_scope = "login"` (etc.) use these: the global anon/user limits
# still apply, and the scope adds its own, stricter rate from DEFAULT_THROTTLE_RATES.
SCOPED_THROTTLES = (
    AtomicAnonRateThrottle,
    AtomicPublicReadRateThrottle,
    AtomicUserRateThrottle,
    AtomicScopedRateThrottle,
)
