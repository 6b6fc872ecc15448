"""The DRF behaviour the core layer relies on, pinned: beyond DRF's public API (the bulk
lookups) and its documented Meta option for list serializers.

The bulk list serializer puts an `InMemoryLookup` in each related field's `queryset`, so
related ids of a whole batch are resolved from one query (`make bench`: 2 queries instead of
1,001 and about 15x faster for 500 items). That works because DRF's related fields read their
rows through `get_queryset().get(...)` and return a non-QuerySet `queryset` unchanged. If a
DRF upgrade changes either, these tests fail before the bulk path silently gets slow or wrong.
"""

from typing import Any

import pytest
from rest_framework import serializers

from apps.core.http.bulk import AppBulkListSerializer, InMemoryLookup
from apps.core.http.serializers import AppWriteOnlyModelSerializer
from tests.testapp.models import Tag
from tests.testapp.serializers import TagWriteSerializer

pytestmark = pytest.mark.django_db


def lookup_of(tag: Tag, key: str) -> InMemoryLookup:
    """A lookup holding one tag under `key`."""
    return InMemoryLookup(Tag, key, {getattr(tag, key): tag})


def test_a_related_field_returns_a_non_queryset_queryset_as_it_is() -> None:
    field: Any = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all())
    lookup = lookup_of(Tag.objects.create(name="x"), "pk")
    field.queryset = lookup
    assert field.get_queryset() is lookup


def test_a_primary_key_field_resolves_through_get_pk(django_assert_num_queries: Any) -> None:
    tag = Tag.objects.create(name="pk")
    field: Any = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all())
    field.queryset = lookup_of(tag, "pk")
    with django_assert_num_queries(0):
        assert field.to_internal_value(str(tag.pk)) == tag
    with pytest.raises(serializers.ValidationError) as missing:
        field.to_internal_value("6f1c3a36-0000-4000-8000-000000000000")
    assert missing.value.detail[0].code == "does_not_exist"


def test_a_slug_field_resolves_through_get_slug(django_assert_num_queries: Any) -> None:
    tag = Tag.objects.create(name="slug")
    field: Any = serializers.SlugRelatedField(slug_field="name", queryset=Tag.objects.all())
    field.queryset = lookup_of(tag, "name")
    with django_assert_num_queries(0):
        assert field.to_internal_value("slug") == tag
    with pytest.raises(serializers.ValidationError) as missing:
        field.to_internal_value("other")
    assert missing.value.detail[0].code == "does_not_exist"


def test_a_many_related_field_resolves_each_id_through_its_child() -> None:
    tag = Tag.objects.create(name="many")
    field: Any = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all(), many=True)
    field.child_relation.queryset = lookup_of(tag, "pk")
    assert field.to_internal_value([str(tag.pk)]) == [tag]


def test_write_serializers_take_arrays_through_the_bulk_list_serializer() -> None:
    """`Meta.list_serializer_class` (DRF's documented option) is set for each write serializer
    that does not name its own."""

    class OwnList(serializers.ListSerializer):  # type: ignore[type-arg]
        """A list serializer of the feature's own."""

    class TagOwnListSerializer(AppWriteOnlyModelSerializer):
        class Meta:
            model = Tag
            fields = ("name",)
            list_serializer_class = OwnList

    assert isinstance(TagWriteSerializer(data=[], many=True), AppBulkListSerializer)
    assert type(TagOwnListSerializer(data=[], many=True)) is OwnList
