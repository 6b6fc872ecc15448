"""Caching on the core layer: versioned keys for responses and computed values, and
invalidation by namespace versions (no key scans).

A namespace is a model label (`catalog.product`). Every write through the core services
(create, update, soft delete, restore, purge, bulk) sends `model_changed`, whose cache
receiver (apps.core.signals) bumps the model's namespace version: keys built with the old
version are never read again and expire on their own. The `default` cache fails open: when
Redis is down, reads miss, writes are dropped, requests still succeed, and the outage is
logged once per interval.
"""

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache import cache
from django.core.exceptions import FieldDoesNotExist
from django.db import transaction

T = TypeVar("T")
NAMESPACE_PREFIX = "ns:"
UNAVAILABLE_LOGGER = "apps.cache.unavailable"


def namespace_version(namespace: str) -> int:
    """The current version of a namespace (1 until first bumped; 0 when the cache is down)."""
    return namespace_versions([namespace])[namespace]


def namespace_versions(namespaces: Iterable[str]) -> dict[str, int]:
    """The current version of each namespace, read in one round trip (a namespace never seen
    before, or evicted, starts at a fresh nanosecond stamp, so it never takes a version an
    entry was stored under before: one more round trip, once). 0 when the cache is down."""
    keys = {namespace: f"{NAMESPACE_PREFIX}{namespace}" for namespace in namespaces}
    found = cache.get_many(list(keys.values()))
    missing = [key for key in keys.values() if key not in found]
    if missing:
        stamp = time.time_ns()
        for key in missing:
            cache.add(key, stamp, timeout=None)
        found.update(cache.get_many(missing))
    return {namespace: int(found.get(key) or 0) for namespace, key in keys.items()}


def _bump(namespace: str) -> None:
    """Increment a namespace's version."""
    key = f"{NAMESPACE_PREFIX}{namespace}"
    try:
        cache.incr(key)
    except ValueError:  # not there yet (or evicted)
        cache.set(key, int(time.time()), timeout=None)


def namespace_bump(namespace: str) -> None:
    """Make every cached entry of `namespace` stale: now, and again after commit (a read
    racing the transaction may re-cache old rows in between)."""
    _bump(namespace)
    transaction.on_commit(lambda: _bump(namespace))


def _bump_many(namespaces: list[str]) -> None:
    """Give each namespace a new version in one cache round trip (a fresh nanosecond stamp:
    versions only need to differ from every earlier one, not to count)."""
    stamp = time.time_ns()
    cache.set_many({f"{NAMESPACE_PREFIX}{ns}": stamp for ns in namespaces}, timeout=None)


def namespaces_bump(namespaces: Iterable[str]) -> None:
    """`namespace_bump` for many namespaces at once (one round trip now, one after commit):
    for fan-out writes such as a chat message reaching every member's rooms list."""
    unique = sorted(set(namespaces))
    if not unique:
        return
    _bump_many(unique)
    transaction.on_commit(lambda: _bump_many(unique))


def queryset_namespaces(queryset: Any) -> tuple[str, ...]:
    """The queryset's model and every model it selects or prefetches (their changes change
    the answer too)."""
    model = queryset.model
    paths: list[str] = []
    selected = queryset.query.select_related
    if isinstance(selected, dict):
        paths.extend(_dict_paths(selected))
    paths.extend(
        getattr(lookup, "prefetch_through", lookup) for lookup in queryset._prefetch_related_lookups
    )
    labels = {model._meta.label_lower}
    for path in paths:
        current = model
        for part in str(path).split("__"):
            try:
                current = current._meta.get_field(part).related_model
            except FieldDoesNotExist:  # a lookup that is not a field: stop there
                break
            if current is None:
                break
            labels.add(current._meta.label_lower)
    return tuple(sorted(labels))


def _dict_paths(tree: dict[str, Any], prefix: str = "") -> list[str]:
    """`{"a": {"b": {}}}` → `["a", "a__b"]` (select_related's nested form)."""
    paths = []
    for key, child in tree.items():
        path = f"{prefix}__{key}" if prefix else key
        paths.append(path)
        if isinstance(child, dict):
            paths.extend(_dict_paths(child, path))
    return paths


def versioned_key(prefix: str, namespaces: Iterable[str], *parts: str) -> str:
    """`prefix:<ns versions>:<hash of parts>`: changes whenever a namespace is bumped."""
    current = namespace_versions(sorted(namespaces))
    versions = ",".join(f"{ns}={version}" for ns, version in current.items())
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"{prefix}:{versions}:{digest}"


def cached_value(key: str, compute: Callable[[], T], *, timeout: int = 300) -> T:
    """A computed value (a balance, an unread count) from the cache, computed on a miss."""
    sentinel = object()
    value = cache.get(key, sentinel)
    if value is sentinel or value is None:
        value = compute()
        cache.set(key, value, timeout=timeout)
    return value


def cached_value_invalidate(key: str) -> None:
    """Forget a computed value now and after commit."""
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


class OncePerIntervalFilter(logging.Filter):
    """Lets one record through per `interval` seconds (an outage logs once, not per call)."""

    def __init__(self, interval: float = 60.0) -> None:
        """`interval`: seconds between two records let through."""
        super().__init__()
        self.interval = interval
        self._last = float("-inf")

    def filter(self, record: logging.LogRecord) -> bool:
        """True for the first record of each interval."""
        now = time.monotonic()
        if now - self._last < self.interval:
            return False
        self._last = now
        return True


__all__ = [
    "OncePerIntervalFilter",
    "cached_value",
    "cached_value_invalidate",
    "namespace_bump",
    "namespace_version",
    "namespaces_bump",
    "versioned_key",
]
