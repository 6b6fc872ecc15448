"""Serializers of the test-only app."""

from rest_framework import serializers

from apps.core.http.serializers import AppReadOnlyModelSerializer, AppWriteOnlyModelSerializer
from tests.testapp.models import Note, Tag


class TagSerializer(AppReadOnlyModelSerializer):
    """A tag."""

    class Meta:
        model = Tag
        fields = ("id", "name")


class TagWriteSerializer(AppWriteOnlyModelSerializer):
    """Create or rename a tag."""

    class Meta:
        model = Tag
        fields = ("name",)


class NoteSerializer(AppReadOnlyModelSerializer):
    """A note as clients read it."""

    owner = serializers.UUIDField(source="owner_id", read_only=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = Note
        fields = ("id", "owner", "title", "body", "priority", "tags", "version", "created_at")


class NoteWriteSerializer(AppWriteOnlyModelSerializer):
    """Create or change a note (`version` required on update)."""

    tags = serializers.PrimaryKeyRelatedField(many=True, queryset=Tag.objects.all(), required=False)
    priority = serializers.IntegerField(min_value=0, max_value=5, required=False)

    class Meta:
        model = Note
        fields = ("title", "body", "priority", "tags")
