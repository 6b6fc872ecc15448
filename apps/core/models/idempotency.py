"""Stored responses of requests sent with an Idempotency-Key."""

from typing import Any, ClassVar

from django.conf import settings
from django.db import models

from apps.core.models.base import BaseModel


class IdempotencyRecord(BaseModel):
    """The response to one (user, Idempotency-Key), replayed to retries until `expires_at`.

    Written in the same transaction as the request's own writes, so a crash never leaves a
    request marked done without its effect. Never soft-deleted: expired rows are purged.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta(BaseModel.Meta):
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["user", "key"], name="core_idempotency_user_key"),
        ]

    def __str__(self) -> str:
        """`method path (key)`."""
        return f"{self.method} {self.path} ({self.key})"
