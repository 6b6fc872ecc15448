"""Throttles whose counters are atomic, so parallel requests cannot slip past a limit.

DRF's SimpleRateThrottle reads a history list from the cache, appends and writes it back:
concurrent requests overwrite each other's writes, so 20 parallel logins got 16 tries past a
limit of 5 across workers. These count in a fixed window with `cache.add` + `cache.incr`,
which are atomic in Redis (and under a lock in the local-memory cache).
"""

from typing import Any

from django.core.cache import caches
from rest_framework.request import Request
from rest_framework.throttling import (
    AnonRateThrottle,
    ScopedRateThrottle,
    SimpleRateThrottle,
    UserRateThrottle,
)


class AtomicWindowThrottle(SimpleRateThrottle):
    """Fixed-window counting for any SimpleRateThrottle (`rate` requests per window).

    Counters live on the fail-closed `guard` cache: when it is down the request is refused
    (503), never let through unthrottled.
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
        self.cache.add(window_key, 0, timeout=self.duration + 1)
        try:
            count = self.cache.incr(window_key)
        except ValueError:  # the window expired between add and incr
            self.cache.add(window_key, 1, timeout=self.duration + 1)
            count = 1
        return bool(count <= self.num_requests)

    def wait(self) -> float:
        """Seconds until the window resets (at least 1)."""
        return max(1.0, self.window_end - self.now)


class AtomicAnonRateThrottle(AnonRateThrottle, AtomicWindowThrottle):
    """`anon` rate per client address, atomic."""


class AtomicUserRateThrottle(UserRateThrottle, AtomicWindowThrottle):
    """`user` rate per user (per address when anonymous), atomic."""


class AtomicScopedRateThrottle(ScopedRateThrottle, AtomicWindowThrottle):
    """The rate of the view's `throttle_scope` (login, register, ...), atomic."""


# Views that set `throttle_scope = "login"` (etc.) use these: the global anon/user limits
# still apply, and the scope adds its own, stricter rate from DEFAULT_THROTTLE_RATES.
SCOPED_THROTTLES = (AtomicAnonRateThrottle, AtomicUserRateThrottle, AtomicScopedRateThrottle)
