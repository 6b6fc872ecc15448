"""The transactional outbox: tasks recorded with the writes that cause them."""

from typing import Any, ClassVar

from django.db import models

from apps.core.models.base import BaseModel


class OutboxMessage(BaseModel):
    """A task to send to the broker, written in the transaction that decided to send it.

    Sent after commit; when the broker is unreachable then, it stays pending (`sent_at` null)
    and the beat task `core.outbox_flush` sends it later. Nothing is lost, nothing is sent for
    a rolled-back transaction. Tasks must tolerate running twice.
    """

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta(BaseModel.Meta):
        ordering: ClassVar[list[str]] = ["created_at"]
        indexes: ClassVar[list[Any]] = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(sent_at__isnull=True),
                name="core_outbox_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        """`task_name (sent|pending)`."""
        return f"{self.task_name} ({'sent' if self.sent_at else 'pending'})"
