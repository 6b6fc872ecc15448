"""The bulk list serializer: arrays posted to a collection, all or nothing, constant queries.

Validation runs every item and reports errors by index (`attr` like `3.price`). Per-item
database work is batched: related objects are fetched with one query per relation field,
single-field uniqueness with one query per field (plus duplicates inside the batch), so the
query count does not grow with the number of items. Writes go through the core services
(`object_bulk_create`: one INSERT per table and one audit INSERT; `object_bulk_update`).
For a bulk update the rows the caller may change arrive as the serializer's `instance`.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.validators import UniqueTogetherValidator, UniqueValidator

from apps.core.exceptions import UNIQUE_MESSAGE
from apps.core.records.services import object_bulk_create, object_bulk_update

DUPLICATE_IN_BATCH_MESSAGE = "This {field} appears more than once in the request."
NOT_FOUND_MESSAGE = "No object with this id (or not yours to change)."


class InMemoryLookup:
    """Stands in for a related field's queryset: `.get(key=value)` from prefetched rows."""

    def __init__(self, model: Any, key: str, rows: dict[Any, Any], source: Any = None) -> None:
        """`rows` maps the normalised key value to the object, in the order the `source`
        queryset returned them (its ordering, by the database's collation)."""
        self.model = model
        self.key = key
        self.rows = rows
        self.source = source

    def normalise(self, value: Any) -> Any:
        """The Python value the database would compare (e.g. a UUID from its string)."""
        field: Any = (
            self.model._meta.pk if self.key == "pk" else self.model._meta.get_field(self.key)
        )
        try:
            return field.to_python(value)
        except DjangoValidationError as exc:
            raise ValueError(str(exc)) from exc

    def get(self, **kwargs: Any) -> Any:
        """The prefetched object, or the model's DoesNotExist, like QuerySet.get."""
        (value,) = kwargs.values()
        try:
            return self.rows[self.normalise(value)]
        except KeyError:
            raise self.model.DoesNotExist from None


def _relation_key(field: serializers.RelatedField[Any, Any, Any]) -> str | None:
    """The lookup a related field uses: `pk`, its slug field, or None when unsupported."""
    if isinstance(field, serializers.PrimaryKeyRelatedField):
        return "pk"
    if isinstance(field, serializers.SlugRelatedField):
        return str(field.slug_field)
    return None


def related_lookups_prefetch(serializer: Any, items: list[dict[str, Any]]) -> None:
    """Fetch the related objects every item names with one query per related field, and let
    each field resolve its values from them (`InMemoryLookup`): DRF would query once per id,
    so once per tag of a product. Used for a bulk batch and for a single write alike."""
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        relation: Any = (
            field.child_relation if isinstance(field, serializers.ManyRelatedField) else field
        )
        key = _relation_key(relation) if isinstance(relation, serializers.RelatedField) else None
        queryset = getattr(relation, "queryset", None)
        if key is None or queryset is None or isinstance(queryset, InMemoryLookup):
            continue
        values: set[Any] = set()
        for item in items:
            raw = item.get(name)
            for value in raw if isinstance(raw, list) else [raw]:
                if isinstance(value, str | int) and not isinstance(value, bool):
                    values.add(value)
        lookup = InMemoryLookup(queryset.model, key, {}, source=queryset)
        normalised = set()
        for value in values:
            try:
                normalised.add(lookup.normalise(value))
            except ValueError:
                continue
        rows = queryset.all().filter(**{f"{key}__in": normalised}) if normalised else []
        lookup.rows = {getattr(row, key): row for row in rows}
        relation.queryset = lookup


class AppBulkListSerializer(serializers.ListSerializer[Any]):
    """`many=True` for AppWriteOnlyModelSerializer: bulk create and versioned bulk update."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Empty arrays and arrays over BULK_MAX_ITEMS are refused (400). The `instance` of a
        bulk update is the rows the caller may change, matched to items by `id`."""
        kwargs.setdefault("allow_empty", False)
        kwargs.setdefault("max_length", settings.BULK_MAX_ITEMS)
        super().__init__(*args, **kwargs)
        self.typed_child.check_live_uniqueness = False  # checked for the batch instead
        instances = self.instance if isinstance(self.instance, list | tuple) else None
        self.instances_by_id: dict[str, Any] | None = (
            None if instances is None else {str(obj.pk): obj for obj in instances}
        )

    @property
    def model(self) -> Any:
        """The child serializer's model."""
        return self.typed_child.Meta.model

    @property
    def typed_child(self) -> Any:
        """The child serializer (an AppWriteOnlyModelSerializer)."""
        return self.child

    # --- validation -------------------------------------------------------------------

    def to_internal_value(self, data: Any) -> list[dict[str, Any]]:
        """Validate every item with batched lookups, then batched uniqueness."""
        limit = getattr(self, "max_length", None)
        acceptable = isinstance(data, list) and 0 < len(data) <= (limit or len(data))
        unique_fields: list[tuple[str, Any]] = []
        if acceptable and all(isinstance(item, dict) for item in data):
            self._prefetch_relations(data)
            unique_fields = self._take_unique_validators()
        validated: list[dict[str, Any]] = super().to_internal_value(data)
        self._check_unique(validated, unique_fields)
        return validated

    def run_child_validation(self, data: Any) -> Any:
        """For bulk update, validate each item against the instance its `id` names."""
        instances = self.instances_by_id
        if instances is not None:
            item_id = str(data.get("id", "")) if isinstance(data, dict) else ""
            if item_id not in instances:
                raise ValidationError({"id": [ErrorDetail(NOT_FOUND_MESSAGE, code="not_found")]})
            self.typed_child.instance = instances[item_id]
            self.typed_child.initial_data = data
        return super().run_child_validation(data)

    def _prefetch_relations(self, data: list[dict[str, Any]]) -> None:
        """One query per related field; the fields then resolve items from memory."""
        related_lookups_prefetch(self.typed_child, data)

    def _take_unique_validators(self) -> list[tuple[str, Any]]:
        """Remove per-item unique validators (a query each); return the single-field ones.

        Multi-field uniqueness is left to the database constraint (IntegrityError → 409).
        """
        single: list[tuple[str, Any]] = []
        for name, field in self.typed_child.fields.items():
            kept = []
            for validator in field.validators:
                if isinstance(validator, UniqueValidator):
                    single.append((name, validator.queryset))
                else:
                    kept.append(validator)
            field.validators = kept
        self.typed_child.validators = [
            v for v in self.typed_child.validators if not isinstance(v, UniqueTogetherValidator)
        ]
        live_fields: list[str] = getattr(self.typed_child, "live_unique_fields", list)()
        single.extend((name, self.model.objects.all()) for name in live_fields)
        return single

    def _check_unique(
        self, items: list[dict[str, Any]], unique_fields: list[tuple[str, Any]]
    ) -> None:
        """One query per unique field for rows that exist, plus duplicates in the batch."""
        if not unique_fields:
            return
        errors: list[dict[str, list[ErrorDetail]]] = [{} for _ in items]
        own_ids = set(self.instances_by_id or {})  # a row may keep its own value
        label = self.model._meta.verbose_name
        for name, queryset in unique_fields:
            values = [item.get(name) for item in items]
            taken = set(
                queryset.filter(**{f"{name}__in": [v for v in values if v is not None]})
                .exclude(pk__in=own_ids)
                .values_list(name, flat=True)
            )
            seen: set[Any] = set()
            for index, value in enumerate(values):
                if value is None:
                    continue
                if value in taken:
                    message = UNIQUE_MESSAGE.format(model=label, field=name)
                    errors[index].setdefault(name, []).append(ErrorDetail(message, code="unique"))
                elif value in seen:
                    message = DUPLICATE_IN_BATCH_MESSAGE.format(field=name)
                    errors[index].setdefault(name, []).append(ErrorDetail(message, code="unique"))
                seen.add(value)
        if any(errors):
            raise ValidationError(errors)

    # --- writes -----------------------------------------------------------------------

    def create(self, validated_data: list[dict[str, Any]]) -> list[models.Model]:
        """All items or none, through `object_bulk_create`."""
        return object_bulk_create(model=self.model, items=validated_data)

    def update(self, instances: Any, validated_data: list[dict[str, Any]]) -> list[models.Model]:
        """Each item updates the instance its `id` names (with its `version` when versioned)."""
        by_id = self.instances_by_id or {}
        updates = []
        for validated, raw in zip(validated_data, self.initial_data, strict=True):
            item = {k: v for k, v in validated.items() if k not in ("id", "version")}
            version = validated.get("version", raw.get("version"))
            updates.append((by_id[str(raw["id"])], item, version))
        return object_bulk_update(updates=updates)
