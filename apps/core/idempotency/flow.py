"""Idempotency-Key handling (DESIGN.md): one execution per (user, key), replays for retries.

The flow for a request on a method a view declares idempotent:
1. no `Idempotency-Key` header → 400 `idempotency_key_required`;
2. take the in-flight lock for (user, key) on the fail-closed `guard` cache; when another
   request holds it, a stored response is replayed if there is one, else 409
   `idempotency_key_in_progress`;
3. with the lock: a live stored response for the key is replayed (`Idempotent-Replayed:
   true`) when the request body hash matches, 422 `idempotency_key_reused` when it does not;
4. otherwise the request runs inside a transaction; a 2xx response is stored in that same
   transaction, a 4xx after rolling the request's writes back, a 5xx is not stored;
5. the lock is released. The unique (user, key) constraint is the last line of defence.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.core.cache import caches
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from rest_framework import status

from apps.core.exceptions import (
    IdempotencyKeyInProgress,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
)
from apps.core.models.base import SoftDeleteQuerySet
from apps.core.models.idempotency import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
KEY_TOO_LONG_MESSAGE = f"The Idempotency-Key may be at most {MAX_KEY_LENGTH} characters."


@dataclass(frozen=True)
class StoredResponse:
    """A response to replay."""

    status: int
    body: Any


class Replay(Exception):  # noqa: N818 - a control-flow signal, handled by the view mixin
    """Raised to answer with a stored response instead of running the request again."""

    def __init__(self, stored: StoredResponse) -> None:
        """Carry the stored response."""
        super().__init__("replay")
        self.stored = stored


@dataclass
class IdempotentRequest:
    """One request's key, body hash and lock, from `idempotency_begin` to `_end`."""

    user: Any
    key: str
    method: str
    path: str
    request_hash: str
    lock_key: str
    locked: bool = False


def request_hash(*, method: str, path: str, data: Any) -> str:
    """SHA-256 of the method, path and canonical JSON body."""
    canonical = json.dumps(data, sort_keys=True, cls=DjangoJSONEncoder, default=str)
    return hashlib.sha256(f"{method}\n{path}\n{canonical}".encode()).hexdigest()


def _stored(idem: IdempotentRequest) -> StoredResponse | None:
    """The live stored response for the key; 422 when it was for another body."""
    record = IdempotencyRecord.objects.filter(
        user=idem.user, key=idem.key, expires_at__gt=timezone.now()
    ).first()
    if record is None:
        return None
    if record.request_hash != idem.request_hash:
        raise IdempotencyKeyReused
    return StoredResponse(record.response_status, record.response_body)


def idempotency_begin(
    *, user: Any, key: str | None, method: str, path: str, data: Any
) -> IdempotentRequest:
    """Validate the key, take the lock, and raise Replay when a response is stored."""
    if not key:
        raise IdempotencyKeyRequired
    if len(key) > MAX_KEY_LENGTH:
        raise IdempotencyKeyRequired(KEY_TOO_LONG_MESSAGE)
    idem = IdempotentRequest(
        user=user,
        key=key,
        method=method,
        path=path,
        request_hash=request_hash(method=method, path=path, data=data),
        lock_key=f"idempotency:{user.pk}:{hashlib.sha256(key.encode()).hexdigest()}",
    )
    idem.locked = caches["guard"].add(idem.lock_key, 1, timeout=settings.IDEMPOTENCY_LOCK_SECONDS)
    stored = _stored(idem)
    if stored is not None:
        idempotency_end(idem)
        raise Replay(stored)
    if not idem.locked:
        raise IdempotencyKeyInProgress
    expired = IdempotencyRecord.all_objects.filter(
        user=user, key=key, expires_at__lte=timezone.now()
    )
    cast(SoftDeleteQuerySet, expired).hard_delete()
    return idem


def idempotency_store(idem: IdempotentRequest, *, status_code: int, body: Any) -> None:
    """Store the response (in the caller's transaction); 5xx responses are not stored."""
    if status_code >= status.HTTP_500_INTERNAL_SERVER_ERROR:
        return
    IdempotencyRecord.objects.create(
        user=idem.user,
        key=idem.key,
        method=idem.method,
        path=idem.path[:255],
        request_hash=idem.request_hash,
        response_status=status_code,
        response_body=json.loads(json.dumps(body, cls=DjangoJSONEncoder)),
        expires_at=timezone.now() + timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS),
    )


def idempotency_end(idem: IdempotentRequest) -> None:
    """Release the lock if this request holds it."""
    if idem.locked:
        caches["guard"].delete(idem.lock_key)
        idem.locked = False


def idempotency_purge_expired() -> int:
    """Delete expired records; returns how many."""
    expired = IdempotencyRecord.all_objects.filter(expires_at__lte=timezone.now())
    count, _ = cast(SoftDeleteQuerySet, expired).hard_delete()
    return count
