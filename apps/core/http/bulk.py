"""The bulk list serializer: arrays posted to a collection, all or nothing, constant queries.

Validation runs every item and reports errors by index (`attr` like `3.price`). Per-item
database work is batched: related objects are fetched with one query per relation field,
single-field uniqueness with one query per field (plus duplicates inside the batch), so the
query count does not grow with the number of items. Writes are one `bulk_create` and one
audit INSERT inside a transaction; models with `bulk_per_row_signals` are saved row by row.
"""

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.validators import UniqueTogetherValidator, UniqueValidator

from apps.core.audit.writer import LoggingMixin, snapshot
from apps.core.exceptions import UNIQUE_MESSAGE, VersionConflict

DUPLICATE_IN_BATCH_MESSAGE = "This {field} appears more than once in the request."
NOT_FOUND_MESSAGE = "No object with this id (or not yours to change)."


class InMemoryLookup:
    """Stands in for a related field's queryset: `.get(key=value)` from prefetched rows."""

    def __init__(self, model: Any, key: str, rows: dict[Any, Any]) -> None:
        """`rows` maps the normalised key value to the object."""
        self.model = model
        self.key = key
        self.rows = rows

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


class AppBulkListSerializer(LoggingMixin, serializers.ListSerializer[Any]):
    """`many=True` for AppWriteOnlyModelSerializer: bulk create and versioned bulk update."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Empty arrays and arrays over BULK_MAX_ITEMS are refused (400)."""
        kwargs.setdefault("allow_empty", False)
        kwargs.setdefault("max_length", settings.BULK_MAX_ITEMS)
        super().__init__(*args, **kwargs)
        self.typed_child.check_live_uniqueness = False  # checked for the batch instead

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
        instances: dict[str, Any] | None = getattr(self, "_instances_by_id", None)
        if instances is not None:
            item_id = str(data.get("id", "")) if isinstance(data, dict) else ""
            if item_id not in instances:
                raise ValidationError({"id": [ErrorDetail(NOT_FOUND_MESSAGE, code="not_found")]})
            self.typed_child.instance = instances[item_id]
            self.typed_child.initial_data = data
        return super().run_child_validation(data)

    def _prefetch_relations(self, data: list[dict[str, Any]]) -> None:
        """One query per related field; the fields then resolve items from memory."""
        for name, field in self.typed_child.fields.items():
            if field.read_only:
                continue
            relation: Any = (
                field.child_relation if isinstance(field, serializers.ManyRelatedField) else field
            )
            key = (
                _relation_key(relation) if isinstance(relation, serializers.RelatedField) else None
            )
            queryset = getattr(relation, "queryset", None)
            if key is None or queryset is None:
                continue
            values: set[Any] = set()
            for item in data:
                raw = item.get(name)
                for value in raw if isinstance(raw, list) else [raw]:
                    if isinstance(value, str | int) and not isinstance(value, bool):
                        values.add(value)
            lookup = InMemoryLookup(queryset.model, key, {})
            normalised = set()
            for value in values:
                try:
                    normalised.add(lookup.normalise(value))
                except ValueError:
                    continue
            rows = queryset.all().filter(**{f"{key}__in": normalised}) if normalised else []
            lookup.rows = {getattr(row, key): row for row in rows}
            relation.queryset = lookup

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
        own_ids = set(getattr(self, "_instances_by_id", {}))  # a row may keep its own value
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
        """All items or none, in one transaction; constant queries unless per-row signals."""
        model = self.model
        with transaction.atomic():
            if getattr(model, "bulk_per_row_signals", False):
                return [self.typed_child.create(dict(item)) for item in validated_data]
            many_to_many = [self._pop_many_to_many(item) for item in validated_data]
            objects = [
                model(**{k: v for k, v in item.items() if k != "version"})
                for item in validated_data
            ]
            model._default_manager.bulk_create(objects)
            self._bulk_set_many_to_many(objects, many_to_many)
            self.log_bulk_create(objects)
        return objects

    def update(self, instances: Any, validated_data: list[dict[str, Any]]) -> list[models.Model]:
        """Each item updates the instance its `id` names; versioned rows are checked one by one."""
        by_id: dict[str, Any] = self._instances_by_id
        updated: list[models.Model] = []
        olds = []
        with transaction.atomic():
            for validated, raw in zip(validated_data, self.initial_data, strict=True):
                instance = by_id[str(raw["id"])]
                olds.append(snapshot(instance))
                item = {k: v for k, v in validated.items() if k != "id"}
                if self.typed_child.is_versioned:
                    item.setdefault("version", raw.get("version"))
                    if item["version"] is None:
                        raise VersionConflict
                    updated.append(self.typed_child.versioned_update(instance, item))
                else:
                    many_to_many = self._pop_many_to_many(item)
                    for key, value in item.items():
                        setattr(instance, key, value)
                    instance.save()
                    for name, values in many_to_many.items():
                        getattr(instance, name).set(values)
                    updated.append(instance)
            self.log_bulk_update(updated, olds)
        return updated

    def bind_instances(self, instances: Iterable[models.Model]) -> None:
        """Give a bulk update the instances it may change (already scoped by the view)."""
        self._instances_by_id = {str(instance.pk): instance for instance in instances}

    def _pop_many_to_many(self, item: dict[str, Any]) -> dict[str, list[Any]]:
        """Take the many-to-many values out of an item (bulk_create cannot set them)."""
        return {
            field.name: item.pop(field.name)
            for field in self.model._meta.many_to_many
            if field.name in item
        }

    def _bulk_set_many_to_many(
        self, objects: list[models.Model], values: list[dict[str, list[Any]]]
    ) -> None:
        """One INSERT per many-to-many field, through its through model."""
        for field in self.model._meta.many_to_many:
            through = getattr(self.model, field.name).through
            source = field.m2m_field_name()
            target = field.m2m_reverse_field_name()
            pairs = {
                (obj.pk, related.pk)
                for obj, item in zip(objects, values, strict=True)
                for related in item.get(field.name, [])
            }  # a repeated id in one item is one link, as `.set()` would make it
            rows = [
                through(**{f"{source}_id": a, f"{target}_id": b}) for a, b in sorted(pairs, key=str)
            ]
            if rows:
                through.objects.bulk_create(rows)
