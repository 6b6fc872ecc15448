"""Models of the test-only app."""

from typing import Any, ClassVar

from django.conf import settings
from django.db import models

from apps.core.models import BaseModel, VersionedModel

LIVE = models.Q(is_deleted=False)


class Tag(BaseModel):
    """A label; its name is unique among live tags."""

    name = models.CharField(max_length=50)

    class Meta(BaseModel.Meta):
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["name"], condition=LIVE, name="testapp_tag_name_live"),
        ]

    def __str__(self) -> str:
        """The name."""
        return self.name


class Note(VersionedModel):
    """An owned, versioned note with a unique live title and a bounded priority."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=100)
    body = models.TextField(blank=True)
    priority = models.PositiveSmallIntegerField(default=0)
    tags = models.ManyToManyField(Tag, blank=True, related_name="notes")
    attachment = models.FileField(upload_to="notes/", blank=True, max_length=255)
    pinned_tag = models.ForeignKey(
        Tag, null=True, blank=True, on_delete=models.PROTECT, related_name="pinned_notes"
    )

    class Meta(VersionedModel.Meta):
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["title"], condition=LIVE, name="testapp_note_title_live"
            ),
            models.CheckConstraint(
                condition=models.Q(priority__lte=5), name="testapp_note_priority_max_5"
            ),
        ]

    def __str__(self) -> str:
        """The title."""
        return self.title
