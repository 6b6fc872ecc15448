"""Views of the test-only app: declarations only, like a feature app."""

from apps.core.http.views import AppModelViewSet
from tests.testapp.models import Note, Tag
from tests.testapp.serializers import (
    NoteSerializer,
    NoteWriteSerializer,
    TagSerializer,
    TagWriteSerializer,
)


class NoteViewSet(AppModelViewSet):
    """Notes: RBAC on `testapp.notes`, scope `own` by owner."""

    feature = "testapp.notes"
    owner_field = "owner"
    queryset = Note.objects.select_related("owner").prefetch_related("tags")
    serializer_classes = {"retrieve": NoteSerializer, "write": NoteWriteSerializer}
    filterset_fields = ("priority",)
    search_fields = ("title",)
    ordering_fields = ("title", "priority", "created_at")


class IdempotentNoteViewSet(NoteViewSet):
    """Notes whose creation needs an Idempotency-Key (as orders and payments will)."""

    idempotent_methods = ("POST",)


class TagViewSet(AppModelViewSet):
    """Tags: anyone may list them; writes need `testapp.tags`."""

    feature = "testapp.tags"
    public_actions = ("list",)
    queryset = Tag.objects.all()
    serializer_classes = {"retrieve": TagSerializer, "write": TagWriteSerializer}
