"""Pre-signed uploads not completed yet: what the housekeeping task removes when abandoned."""

from typing import Any, ClassVar

from django.db import models

from apps.core.models.base import BaseModel


class PendingUpload(BaseModel):
    """One pre-signed upload between its presign and its completion, by storage key. The
    completion deletes the row; a row whose token expired is an abandoned upload, and
    `uploads_abandoned_purge` deletes whatever was stored under its key, then the row."""

    key = models.CharField(max_length=255)
    target = models.CharField(max_length=100)
    expires_at = models.DateTimeField(db_index=True)

    class Meta(BaseModel.Meta):
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["key"], name="core_pendingupload_key_unique"),
        ]

    def __str__(self) -> str:
        """The storage key."""
        return self.key
