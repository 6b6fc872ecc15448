"""Idempotency-Key handling (DESIGN.md): one execution per (user, key), replays for retries.

One explicit flow, `idempotency_slot(...)`, a context manager:
1. no `Idempotency-Key` header → 400 `idempotency_key_required`;
2. it takes the in-flight lock for (user, key) on the fail-closed `guard` cache;
3. a live stored answer for the key is yielded as `slot.stored` to replay when the request
   body hash matches (422 `idempotency_key_reused` when it does not); without one, another
   request holding the lock means 409 `idempotency_key_in_progress`;
4. otherwise the caller runs the request in a transaction and `slot.fill(...)`s the slot in
   that same transaction (2xx), or after rolling its writes back (4xx); 5xx are not stored.
   When another request stored an answer first (the unique (user, key) constraint),
   `fill` hands that answer back for the caller to replay instead;
5. leaving the block releases the lock.
"""

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import caches
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status

from apps.core.exceptions import (
    IdempotencyKeyInProgress,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
)
from apps.core.models.base import SoftDeleteQuerySet
from apps.core.models.idempotency import IdempotencyRecord
from apps.core.platform.floats import floats_marked

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
KEY_TOO_LONG_MESSAGE = f"The Idempotency-Key may be at most {MAX_KEY_LENGTH} characters."


@dataclass(frozen=True)
class StoredAnswer:
    """An answer kept for replay: its status and JSON body (data, never an envelope)."""

    status: int
    body: Any

    @classmethod
    def of_record(cls, record: IdempotencyRecord) -> "StoredAnswer":
        """The answer a record keeps, its floats as they were first written (a stored body
        comes back as plain JSON; apps.core.platform.floats)."""
        return cls(record.response_status, floats_marked(record.response_body))


@dataclass
class IdempotencySlot:
    """One request's hold on its key: a stored answer to replay, or a slot to fill."""

    user: AbstractBaseUser
    key: str
    method: str
    path: str
    request_hash: str
    stored: StoredAnswer | None = None

    def fill(self, *, status_code: int, body: Any) -> StoredAnswer | None:
        """Store this request's answer in the caller's transaction (not a 5xx).

        None when stored; the answer another request stored first when the key was taken in
        the meantime (the caller rolls its own writes back and replays that one).
        """
        if status_code >= status.HTTP_500_INTERNAL_SERVER_ERROR:
            return None
        try:
            with transaction.atomic():  # a savepoint: the caller's transaction survives a loss
                IdempotencyRecord.objects.create(
                    user=self.user,
                    key=self.key,
                    method=self.method,
                    path=self.path[:255],
                    request_hash=self.request_hash,
                    response_status=status_code,
                    response_body=json.loads(json.dumps(body, cls=DjangoJSONEncoder)),
                    expires_at=timezone.now() + timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS),
                )
        except IntegrityError:
            return StoredAnswer.of_record(
                IdempotencyRecord.objects.get(user=self.user, key=self.key)
            )
        return None


def request_hash(*, method: str, path: str, data: Any) -> str:
    """SHA-256 of the method, path and canonical JSON body."""
    canonical = json.dumps(data, sort_keys=True, cls=DjangoJSONEncoder, default=str)
    return hashlib.sha256(f"{method}\n{path}\n{canonical}".encode()).hexdigest()


def _stored_answer(slot: IdempotencySlot) -> StoredAnswer | None:
    """The live stored answer for the key; 422 when it was for another body."""
    record = IdempotencyRecord.objects.filter(
        user=slot.user, key=slot.key, expires_at__gt=timezone.now()
    ).first()
    if record is None:
        return None
    if record.request_hash != slot.request_hash:
        raise IdempotencyKeyReused
    return StoredAnswer.of_record(record)


@contextmanager
def idempotency_slot(
    *, user: AbstractBaseUser, key: str | None, method: str, path: str, data: Any
) -> Iterator[IdempotencySlot]:
    """Hold (user, key) for one request: yields a slot with `stored` set to replay, or an
    empty slot to `fill`. Errors (400, 409, 422) are raised before anything runs."""
    if not key:
        raise IdempotencyKeyRequired
    if len(key) > MAX_KEY_LENGTH:
        raise IdempotencyKeyRequired(KEY_TOO_LONG_MESSAGE)
    slot = IdempotencySlot(
        user=user,
        key=key,
        method=method,
        path=path,
        request_hash=request_hash(method=method, path=path, data=data),
    )
    lock_key = f"idempotency:{user.pk}:{hashlib.sha256(key.encode()).hexdigest()}"
    guard = caches["guard"]
    locked = guard.add(lock_key, 1, timeout=settings.IDEMPOTENCY_LOCK_SECONDS)
    try:
        slot.stored = _stored_answer(slot)
        if slot.stored is None and not locked:
            raise IdempotencyKeyInProgress
        if slot.stored is None:
            expired = IdempotencyRecord.all_objects.filter(
                user=user, key=key, expires_at__lte=timezone.now()
            )
            cast(SoftDeleteQuerySet, expired).hard_delete()
        yield slot
    finally:
        if locked:
            guard.delete(lock_key)


def idempotency_purge_expired() -> int:
    """Delete expired records; returns how many."""
    expired = IdempotencyRecord.all_objects.filter(expires_at__lte=timezone.now())
    count, _ = cast(SoftDeleteQuerySet, expired).hard_delete()
    return count
