"""Base serializers feature apps inherit instead of DRF's own.

- `AppModelSerializer`: explicit fields only.
- `AppReadOnlyModelSerializer`: the GET path; resolves each field's reader once per serializer
  instead of once per object and refuses writes.
- `AppWriteOnlyModelSerializer`: validation; writes through the core services
  (apps.core.records.services: recorded in the audit log, optimistic locking for
  `VersionedModel`); arrays use the bulk list serializer (apps.core.http.bulk).
- `AppSerializer`: plain payloads (login, commands, webhooks, socket frames).
- Both input bases refuse keys they would drop (`UnwritableFieldsMixin`): 400 `read_only` or
  `unknown_field` naming the key, never a silent ignore.
"""

import functools
import json
from collections.abc import Callable, Collection, Mapping
from typing import Any, ClassVar

from django.db import models
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject

from apps.core.exceptions import UNIQUE_MESSAGE
from apps.core.http.bulk import AppBulkListSerializer, related_lookups_prefetch
from apps.core.http.parsers import json_depth
from apps.core.models.base import VersionedModel
from apps.core.platform.floats import ReprFloat, floats_marked
from apps.core.records.services import object_create, object_update

READ_ONLY_MESSAGE = "{name} is read-only; use a write serializer."
VERSION_REQUIRED_MESSAGE = "Send the version you read (optimistic locking)."
READ_ONLY_FIELD_MESSAGE = "This field cannot be set or changed here."
UNKNOWN_FIELD_MESSAGE = "Unknown field; this endpoint accepts: {fields}."
READ_ONLY_CODE = "read_only"
UNKNOWN_FIELD_CODE = "unknown_field"
# Serializer fields whose to_representation returns a value of this type unchanged.
_IDENTITY_FIELDS: tuple[tuple[Any, type], ...] = (
    (serializers.CharField, str),  # includes EmailField, SlugField, URLField, RegexField
    (serializers.IntegerField, int),
    (serializers.BooleanField, bool),
)


def identity_type(field: Any) -> type | None:
    """The value type `field` returns unchanged: a CharField, IntegerField or BooleanField
    whose class keeps DRF's to_representation (a subclass with its own output has none)."""
    for field_type, value_type in _IDENTITY_FIELDS:
        if (
            isinstance(field, field_type)
            and type(field).to_representation is field_type.to_representation
        ):
            return value_type
    return None


def value_converter(field: Any) -> Callable[[Any], Any]:
    """A value's output (not None): the value itself when it has exactly the type the field
    returns unchanged (so not a bool for an IntegerField), else DRF's conversion. Shared by
    the read serializer's model path and the projection plans."""
    exact: Callable[[Any], Any] = field.to_representation
    value_type = identity_type(field)
    if value_type is None:
        return exact

    def convert(value: Any) -> Any:
        return value if type(value) is value_type else exact(value)

    return convert


class AppJSONField(serializers.JSONField):
    """DRF's JSONField whose floats are written as DRF writes them (apps.core.platform.floats)."""

    def to_representation(self, value: Any) -> Any:
        """DRF's representation, floats marked."""
        return floats_marked(super().to_representation(value))


class AppFloatField(serializers.FloatField):
    """DRF's FloatField whose values are written as DRF writes them."""

    def to_representation(self, value: Any) -> Any:
        """DRF's representation, marked."""
        return ReprFloat(super().to_representation(value))


class BoundedJSONField(AppJSONField):
    """A JSON object field with limits a client cannot get around: nesting depth, number of
    keys (at any level) and encoded size; each breach is a 400 naming the field."""

    default_error_messages = {
        "not_an_object": "Send a JSON object.",
        "too_deep": "Nesting is limited to {max_depth} levels.",
        "too_many_keys": "At most {max_keys} keys in all.",
        "too_large": "At most {max_bytes} bytes of JSON.",
    }

    def __init__(
        self, *, max_depth: int = 5, max_keys: int = 100, max_bytes: int = 16_384, **kwargs: Any
    ) -> None:
        """The limits; the rest as DRF's JSONField."""
        super().__init__(**kwargs)
        self.max_depth, self.max_keys, self.max_bytes = max_depth, max_keys, max_bytes

    def to_internal_value(self, data: Any) -> Any:
        """DRF's checks, then the limits."""
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            self.fail("not_an_object")
        if json_depth(value) > self.max_depth:
            self.fail("too_deep", max_depth=self.max_depth)
        if _key_count(value) > self.max_keys:
            self.fail("too_many_keys", max_keys=self.max_keys)
        if len(json.dumps(value, separators=(",", ":")).encode()) > self.max_bytes:
            self.fail("too_large", max_bytes=self.max_bytes)
        return value


def _key_count(value: Any) -> int:
    """Keys of every object inside `value`."""
    count, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            count += len(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


class ProjectedMethodField(serializers.SerializerMethodField):
    """A SerializerMethodField that declares the columns its method reads (`reads`), so a
    projected list can call it on a row: the method gets an object whose attributes are
    those columns (a file column as Django's FieldFile, so `.url` works), instead of the
    model instance. The method must read nothing else; the byte-identity tests of the read
    serializers hold it to that (tests/core/http/test_projection.py)."""

    def __init__(
        self, method_name: str | None = None, *, reads: tuple[str, ...], **kwargs: Any
    ) -> None:
        """`reads`: the model columns the method reads, by field name."""
        super().__init__(method_name, **kwargs)
        self.reads = tuple(reads)


@functools.cache
def model_field_names(model: type[models.Model]) -> frozenset[str]:
    """The names a client may know a model's columns by: each field's name and attname
    (`parent`, `parent_id`), many-to-many fields, and `pk`."""
    names = {"pk"}
    for field in model._meta.concrete_fields:
        names.update((field.name, field.attname))
    names.update(field.name for field in model._meta.many_to_many)
    return frozenset(names)


class UnwritableFieldsMixin(serializers.Serializer[Any]):
    """Keys of an input that the write would drop silently are refused instead, each a 400
    naming it, so a client never believes it changed what it cannot:

    - a field the caller may not set here is `read_only` ("This field cannot be set or changed
      here."): a read-only field of the serializer, a name in `refused_fields` (fields the
      resource shows but this payload does not take, e.g. `email` on a profile update), and,
      for model serializers, any column of the model the serializer does not write (`id`,
      `created_at`, `is_staff`). An update may send the row's own `id` (a bulk update's rows
      do; a single update's body may have their shape);
    - any other key is `unknown_field` ("Unknown field; this endpoint accepts: ...") where
      `refuse_unknown_fields` is set: every model write serializer, and the command payloads
      that opt in. Plain serializers do not by default: some parse what the project does not
      shape alone (a payment provider's webhook, whose provider adds fields; WebSocket frames,
      which carry their `type`).

    Field errors of the same input are reported with these, in one 400; in a bulk write each
    is named by index (`3.id`).
    """

    refused_fields: ClassVar[Collection[str]] = ()
    refuse_unknown_fields: ClassVar[bool] = False

    def read_only_names(self) -> Collection[str]:
        """Names refused as `read_only` beyond the serializer's read-only fields."""
        return self.refused_fields

    def names_this_row(self, key: str, data: Mapping[str, Any]) -> bool:
        """True when `key` only names the row being changed (an update's own `id`)."""
        return False

    def unwritable_errors(self, data: Mapping[str, Any]) -> dict[str, list[ErrorDetail]]:
        """`{key: [error]}` for each key of `data` this serializer would not write."""
        fields = self.fields
        errors: dict[str, list[ErrorDetail]] = {}
        for key in data:
            field = fields.get(key)
            writable = field is not None and not (
                field.read_only or isinstance(field, serializers.HiddenField)
            )
            if writable or self.names_this_row(key, data):
                continue
            if field is not None or key in self.read_only_names():
                errors[key] = [ErrorDetail(READ_ONLY_FIELD_MESSAGE, code=READ_ONLY_CODE)]
            elif self.refuse_unknown_fields:
                accepted = ", ".join(
                    name
                    for name, candidate in fields.items()
                    if not (candidate.read_only or isinstance(candidate, serializers.HiddenField))
                )
                message = UNKNOWN_FIELD_MESSAGE.format(fields=accepted or "nothing")
                errors[key] = [ErrorDetail(message, code=UNKNOWN_FIELD_CODE)]
        return errors

    def to_internal_value(self, data: Any) -> Any:
        """DRF's validation; the refused keys are reported with the field errors."""
        refused = self.unwritable_errors(data) if isinstance(data, Mapping) else {}
        try:
            value = super().to_internal_value(data)
        except ValidationError as exc:
            if refused and isinstance(exc.detail, Mapping):
                raise ValidationError({**refused, **exc.detail}) from exc
            raise
        if refused:
            raise ValidationError(refused)
        return value


class AppSerializer(UnwritableFieldsMixin, serializers.Serializer[Any]):
    """A plain (non-model) serializer for command payloads such as login or password reset.
    Read-only fields and `refused_fields` sent are refused; unknown keys only where
    `refuse_unknown_fields` is set (UnwritableFieldsMixin)."""


class AppModelSerializer(serializers.ModelSerializer[Any]):
    """The base of every model serializer: fields must be listed explicitly, never `__all__`.
    JSON and float columns use the core fields that keep DRF's float format."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.JSONField: AppJSONField,
        models.FloatField: AppFloatField,
    }

    def get_field_names(self, declared_fields: Any, info: Any) -> list[str]:
        """DRF's field names, refusing `__all__` and `exclude` so no field leaks by default."""
        meta = getattr(self, "Meta", None)
        if getattr(meta, "fields", None) == serializers.ALL_FIELDS or getattr(
            meta, "exclude", None
        ):
            raise AssertionError(
                f"{type(self).__name__}.Meta must list `fields` explicitly "
                "(no '__all__' or `exclude`), so new model fields never leak."
            )
        return list(super().get_field_names(declared_fields, info))


Reader = tuple[str, Callable[[Any], Any], Callable[[Any], Any]]


class AppReadOnlyModelSerializer(AppModelSerializer):
    """Output only. Field readers are resolved once per serializer (once per list, not per row).

    Values are read with each field's own `get_attribute` (DRF's public API, so defaults,
    dicts and missing relations behave as in DRF); a value already of the type its field
    outputs (a str for a CharField) skips `to_representation`; everything else goes through
    DRF's own field code, so the output is identical to a ModelSerializer's (tested).
    `make bench`: about 1.1x DRF's `to_representation` on 1,000 rows.

    Lists go faster still: `projected = True` has the core's list read the page with
    `values()` through the class's projection plan (apps.core.http.projection) when every
    field can be read from columns.
    """

    projected = True

    def _readers(self) -> list[Reader]:
        """`(name, read, convert)` per readable field, built on first use."""
        cached: list[Reader] | None = getattr(self, "_cached_readers", None)
        if cached is not None:
            return cached
        readers: list[Reader] = [
            (str(field.field_name), field.get_attribute, value_converter(field))
            for field in self.fields.values()
            if not field.write_only
        ]
        self._cached_readers = readers
        return readers

    def to_representation(self, instance: Any) -> dict[str, Any]:
        """The output dict for one object."""
        output: dict[str, Any] = {}
        for name, read, convert in self._readers():
            try:
                value = read(instance)
            except SkipField:
                continue
            if value is None or (isinstance(value, PKOnlyObject) and value.pk is None):
                output[name] = None
            else:
                output[name] = convert(value)
        return output

    def create(self, validated_data: Any) -> Any:
        """Refused: this serializer only reads."""
        raise NotImplementedError(READ_ONLY_MESSAGE.format(name=type(self).__name__))

    def update(self, instance: Any, validated_data: Any) -> Any:
        """Refused: this serializer only reads."""
        raise NotImplementedError(READ_ONLY_MESSAGE.format(name=type(self).__name__))


class AppWriteOnlyModelSerializer(UnwritableFieldsMixin, AppModelSerializer):
    """Input: validates, then writes through the core services (audited, version-checked).

    Keys it does not write are refused (UnwritableFieldsMixin): the model's other columns and
    `Meta.read_only_fields` as `read_only` (except an update's own `id`), anything else as
    `unknown_field`: send the write shape the schema documents, not a read representation.

    For a `VersionedModel` an update must carry `version`; `object_update` checks and
    increments it in one `UPDATE ... WHERE id = %s AND version = %s`, so of two concurrent
    writers with the same version exactly one wins and the other gets 409 `version_conflict`.
    An array (`many=True`) gets AppBulkListSerializer unless `Meta.list_serializer_class`
    names another.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Arrays (`many=True`) get AppBulkListSerializer through DRF's own Meta option,
        unless the subclass's Meta names a `list_serializer_class` itself."""
        super().__init_subclass__(**kwargs)
        meta = cls.__dict__.get("Meta")
        if meta is not None and not hasattr(meta, "list_serializer_class"):
            meta.list_serializer_class = AppBulkListSerializer

    refuse_unknown_fields = True

    @property
    def model_class(self) -> Any:
        """The serializer's model."""
        return self.Meta.model

    def read_only_names(self) -> Collection[str]:
        """The model's columns, `Meta.read_only_fields` and `refused_fields`."""
        declared = tuple(getattr(self.Meta, "read_only_fields", ()))
        return model_field_names(self.model_class) | {*declared, *self.refused_fields}

    def names_this_row(self, key: str, data: Mapping[str, Any]) -> bool:
        """An update's `id` (or `pk`) equal to the row's own id."""
        instance = self.instance
        if key not in ("id", "pk") or instance is None or isinstance(instance, list | tuple):
            return False
        return str(data[key]) == str(instance.pk)

    # Set by the bulk list serializer, which checks uniqueness for the whole batch at once.
    check_live_uniqueness = True

    def live_unique_fields(self) -> list[str]:
        """Fields unique among live rows (single-field UniqueConstraints, unconditional or
        conditional on not deleted), which DRF does not validate by itself."""
        live = models.Q(is_deleted=False)
        return [
            constraint.fields[0]
            for constraint in self.model_class._meta.constraints
            if isinstance(constraint, models.UniqueConstraint)
            and len(constraint.fields) == 1
            and constraint.condition in (None, live)
            and constraint.fields[0] in self.fields
        ]

    def to_internal_value(self, data: Any) -> Any:
        """DRF's validation, with a single write's related ids resolved by one query per
        relation field, as a bulk batch's are (a bulk item's list has done it already)."""
        if isinstance(data, dict) and not isinstance(self.parent, serializers.ListSerializer):
            related_lookups_prefetch(self, [data])
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Refuse an update of a versioned row without `version` (400 `required` on it), and
        a value another live row already holds (400 `unique` on the field): one query for all
        the live-unique fields of the write."""
        attrs = super().validate(attrs)
        if self.is_versioned and self.instance is not None and attrs.get("version") is None:
            raise serializers.ValidationError(
                {"version": [ErrorDetail(VERSION_REQUIRED_MESSAGE, code="required")]}
            )
        if not self.check_live_uniqueness:
            return attrs
        model = self.model_class
        names = [name for name in self.live_unique_fields() if name in attrs]
        if not names:
            return attrs
        either = models.Q()
        for name in names:
            either |= models.Q(**{name: attrs[name]})
        taken = model.objects.filter(either)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        holders = list(taken.values_list(*names)[: len(names)])
        for index, name in enumerate(names):
            if any(row[index] == attrs[name] for row in holders):
                message = UNIQUE_MESSAGE.format(model=model._meta.verbose_name, field=name)
                raise serializers.ValidationError({name: [ErrorDetail(message, code="unique")]})
        return attrs

    @property
    def is_versioned(self) -> bool:
        """True when the model carries a version."""
        return issubclass(self.Meta.model, VersionedModel)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        """DRF's fields, plus `version` for versioned models (required on update)."""
        fields = super().get_fields()
        if self.is_versioned:
            fields["version"] = serializers.IntegerField(min_value=1, required=False)
        return fields

    def create(self, validated_data: dict[str, Any]) -> Any:
        """Create through `object_create` (recorded)."""
        return object_create(model=self.model_class, data=validated_data)

    def update(self, instance: Any, validated_data: dict[str, Any]) -> Any:
        """Update through `object_update` (version-checked, recorded with a diff)."""
        data = dict(validated_data)
        version = data.pop("version", None)
        return object_update(instance=instance, data=data, version=version)
