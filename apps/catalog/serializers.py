"""Catalog serializers: read shapes for lists and details, write shapes for editors."""

import uuid
from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from apps.catalog.models import Banner, Category, Product, Tag
from apps.catalog.selectors import category_descendant_ids, tag_list
from apps.core.http.bulk import InMemoryLookup
from apps.core.http.serializers import (
    AppReadOnlyModelSerializer,
    AppWriteOnlyModelSerializer,
    BoundedJSONField,
)

UNKNOWN_TAG_MESSAGE = (
    'No tag "{value}": send the name (as product reads show it) or the id of an existing tag; '
    "tags are created at /api/v1/catalog/tags/."
)
TAG_TYPE_MESSAGE = "Send a tag's name or id as a string."
NUL = "\x00"  # no tag name holds it, and PostgreSQL refuses it in a query (a 500)
_TAG_ROWS = "_catalog_tag_rows"  # per write: the tags every item names, found by one query


class TagSerializer(AppReadOnlyModelSerializer):
    """A tag as clients read it (products show tags by `name`)."""

    class Meta:
        model = Tag
        fields = ("id", "name", "created_at")


class TagWriteSerializer(AppWriteOnlyModelSerializer):
    """Create or rename a tag; a name another live tag holds is a 400 `unique` on `name`."""

    class Meta:
        model = Tag
        fields = ("name",)


def _as_uuid(value: str) -> uuid.UUID | None:
    """`value` as a UUID, or None when it is not one."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@extend_schema_field(
    {"type": "string", "description": "A tag's name (as product reads show it) or its id."}
)
class TagNameOrIdField(serializers.RelatedField[Tag, Any, Any]):
    """One tag, by name or by id. Every tag a write names (every item of a bulk batch) is
    found with one query on first use (`TagListField`); an unknown one is an error."""

    default_error_messages = {
        "does_not_exist": UNKNOWN_TAG_MESSAGE,
        "incorrect_type": TAG_TYPE_MESSAGE,
        "null_characters_not_allowed": ProhibitNullCharactersValidator.message,
    }

    def to_internal_value(self, data: Any) -> Tag:
        """The tag whose id (first) or name is `data`."""
        if not isinstance(data, str):
            self.fail("incorrect_type")
        if NUL in data:
            self.fail("null_characters_not_allowed")
        by_pk, by_name = getattr(self.root, _TAG_ROWS)
        key = _as_uuid(data)
        found = by_pk.get(key) if key is not None else None
        found = found or by_name.get(data)
        if found is None:
            self.fail("does_not_exist", value=data[:60])
        return found

    def to_representation(self, value: Any) -> str:
        """The tag's name."""
        return str(value.name)


class TagListField(serializers.ManyRelatedField):
    """Tags by name or id (`["vegan", "<id>"]`); errors name the index (`tags.1`), a tag
    named twice is linked once. The tags of the whole write are read with one query, and
    the relation then answers from them (so the answer to a write reads no tags again)."""

    def __init__(self, **kwargs: Any) -> None:
        """A many field over TagNameOrIdField."""
        super().__init__(child_relation=TagNameOrIdField(queryset=tag_list()), **kwargs)

    def to_internal_value(self, data: Any) -> list[Tag]:
        """The tags, in the order sent, without repeats; errors by index."""
        if isinstance(data, str) or not isinstance(data, list | tuple):
            self.fail("not_a_list", input_type=type(data).__name__)
        self._prefetch()
        tags: list[Tag] = []
        errors: dict[int, Any] = {}
        for index, item in enumerate(data):
            try:
                tag = self.child_relation.to_internal_value(item)
            except ValidationError as exc:
                errors[index] = exc.detail
                continue
            if tag not in tags:
                tags.append(tag)
        if errors:
            raise ValidationError(errors)  # type: ignore[arg-type]  # by index, as ListField
        return tags

    def _sent(self, item: Any) -> list[Any]:
        """The values one item sends for this field (a form's repeated key, or a JSON list)."""
        if hasattr(item, "getlist"):
            return list(item.getlist(self.field_name))
        value = item.get(self.field_name) if isinstance(item, dict) else None
        return value if isinstance(value, list) else []

    def _prefetch(self) -> None:
        """Find every tag the write names (all bulk items) with one query, once per write."""
        root = self.root
        if hasattr(root, _TAG_ROWS):
            return
        raw = getattr(root, "initial_data", None)
        items = raw if isinstance(raw, list) else [raw]
        values = {
            value
            for item in items
            for value in self._sent(item)
            if isinstance(value, str) and NUL not in value
        }
        ids = {key for key in map(_as_uuid, values) if key is not None}
        relation: Any = self.child_relation
        source = relation.queryset
        rows = (
            list(source.filter(models.Q(pk__in=ids) | models.Q(name__in=values))) if values else []
        )
        setattr(root, _TAG_ROWS, ({row.pk: row for row in rows}, {row.name: row for row in rows}))
        # The answer to a single write takes the tags from here (projection.written_relations).
        relation.queryset = InMemoryLookup(Tag, "pk", {row.pk: row for row in rows}, source=source)


class CategorySerializer(AppReadOnlyModelSerializer):
    """A category as clients read it (the tree is rebuilt from `parent`)."""

    parent = serializers.UUIDField(source="parent_id", allow_null=True)  # type: ignore[assignment]

    class Meta:
        model = Category
        fields = ("id", "name", "slug", "parent", "sort_order", "is_active")


CYCLE_MESSAGE = "A category cannot be its own parent or sit below one of its sub-categories."


class CategoryWriteSerializer(AppWriteOnlyModelSerializer):
    """Create or change a category (the tree may not loop)."""

    class Meta:
        model = Category
        fields = ("name", "slug", "parent", "sort_order", "is_active")

    def validate_parent(self, parent: Category | None) -> Category | None:
        """Refuse the category itself or anything below it as its parent."""
        below = category_descendant_ids(root_ids=[self.instance.pk]) if self.instance else set()
        if parent is not None and parent.pk in below:
            raise serializers.ValidationError(CYCLE_MESSAGE)
        return parent


class ProductListSerializer(AppReadOnlyModelSerializer):
    """A product in a list: no description; `final_price` computed by the database."""

    category = serializers.UUIDField(source="category_id")
    category_name = serializers.CharField(source="category.name")
    tags: serializers.Field[Any, Any, Any, Any] = serializers.SlugRelatedField(
        slug_field="name", many=True, read_only=True
    )
    final_price = serializers.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        model = Product
        fields = (
            "id",
            "name",
            "slug",
            "sku",
            "category",
            "category_name",
            "price",
            "discount_percent",
            "final_price",
            "stock",
            "is_active",
            "tags",
            "image",
            "version",
            "created_at",
        )


class ProductDetailSerializer(ProductListSerializer):
    """One product, with its description and attributes."""

    class Meta(ProductListSerializer.Meta):
        fields = (*ProductListSerializer.Meta.fields, "description", "attributes")  # type: ignore[assignment]


class ProductWriteSerializer(AppWriteOnlyModelSerializer):
    """Create or change a product (`version` required on update). `tags` takes names, as
    reads show them, or ids; an unknown one is refused (tags are managed at /catalog/tags/)."""

    tags = TagListField(required=False)
    attributes = BoundedJSONField(required=False)

    class Meta:
        model = Product
        fields = (
            "category",
            "name",
            "slug",
            "sku",
            "description",
            "price",
            "discount_percent",
            "stock",
            "is_active",
            "tags",
            "attributes",
        )


class BannerSerializer(AppReadOnlyModelSerializer):
    """A banner."""

    class Meta:
        model = Banner
        fields = ("id", "title", "image", "link", "position", "starts_at", "ends_at")


class BannerWriteSerializer(AppWriteOnlyModelSerializer):
    """Create or change a banner."""

    class Meta:
        model = Banner
        fields = ("title", "link", "position", "starts_at", "ends_at")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The window must end after it starts."""
        attrs = super().validate(attrs)
        starts = attrs.get("starts_at", getattr(self.instance, "starts_at", None))
        ends = attrs.get("ends_at", getattr(self.instance, "ends_at", None))
        if starts and ends and ends <= starts:
            raise serializers.ValidationError({"ends_at": ["Must be after starts_at."]})
        return attrs
