"""Projection reads: a read serializer's declared fields compiled once into a `values()` plan.

A list page read through model instances pays, per row, for the instance, its related
instances, a related manager and two querysets per prefetched relation, and DRF's per-field
machinery. A plan reads the same page as dicts instead:

- columns and annotations are selected with `values()`; forward relations (`category.name`,
  a nested serializer over a foreign key) are joined columns of the same query;
- a many-to-many or reverse relation (`tags`, an order's `items`) is one extra query for the
  whole page, through the related model's default manager (or the queryset of the selector's
  `Prefetch`), so soft-deleted rows and ordering are what `prefetch_related` would give;
- each value is converted as DRF would convert the value the model instance holds, with fast
  paths that skip DRF's per-value work where the result cannot differ (a `str` column into a
  `CharField`, a UTC datetime, a decimal already at the field's scale).

Fields a plan cannot read from columns (a `SerializerMethodField`, a property, a reverse
one-to-one) make the whole serializer keep DRF's model path: `projection_plan` raises
`UnprojectableError` naming the field, and `projection_fallbacks()` lists them for every read
serializer (tests/core/http/test_projection.py pins the list). The output is byte-identical
to DRF's (tests per read serializer).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet, FieldDoesNotExist
from django.db import models
from django.db.models.fields.files import FieldFile
from django.db.models.query import Prefetch
from rest_framework import serializers
from rest_framework.fields import SkipField, empty
from rest_framework.relations import ManyRelatedField
from rest_framework.settings import api_settings

from apps.core.http.bulk import InMemoryLookup
from apps.core.http.serializers import (
    AppReadOnlyModelSerializer,
    ProjectedMethodField,
    identity_type,
    value_converter,
)

Converter = Callable[[Any], Any]
Getter = Callable[[dict[str, Any]], Any]
_SKIP = object()  # a getter's answer when DRF would leave the key out (SkipField)
_ZERO = dt.timedelta(0)
# Model columns whose Python value is always of this type (or None).
_COLUMN_TYPES: dict[str, type] = {
    **dict.fromkeys(("CharField", "TextField", "EmailField", "SlugField", "URLField"), str),
    **dict.fromkeys(
        (
            "IntegerField",
            "BigIntegerField",
            "SmallIntegerField",
            "PositiveIntegerField",
            "PositiveBigIntegerField",
            "PositiveSmallIntegerField",
        ),
        int,
    ),
    "BooleanField": bool,
}


class UnprojectableError(Exception):
    """A field a plan cannot read from columns: the serializer keeps DRF's model path."""


def _utc_datetime(field: Any) -> Converter:
    """DRF's ISO 8601 output of an aware datetime, without DRF's work when both the value
    and the field's time zone are UTC (the value keeps its instant; only `Z` is written)."""
    exact = field.to_representation

    def convert(value: Any) -> Any:
        if isinstance(value, dt.datetime) and value.utcoffset() == _ZERO:
            return value.isoformat()[:-6] + "Z"
        return exact(value)

    return convert


def _scaled_decimal(field: Any) -> Converter:
    """DRF's string of a decimal, without its quantize when the value already has the
    field's scale and fits its digits (quantize would change nothing)."""
    exact = field.to_representation
    exponent, max_digits = -int(field.decimal_places), int(field.max_digits)

    def convert(value: Any) -> Any:
        if type(value) is Decimal:
            _sign, digits, value_exponent = value.as_tuple()
            if value_exponent == exponent and len(digits) <= max_digits:
                return f"{value:f}"
        return exact(value)

    return convert


def _file_url(field: Any, model_field: Any, context: Mapping[str, Any]) -> Converter:
    """DRF's FileField output from the stored name: the storage URL, absolute when the
    context has a request (DRF's `use_url`), or the name."""
    if not getattr(field, "use_url", api_settings.UPLOADED_FILES_USE_URL):
        return lambda name: name or None
    storage = model_field.storage
    request = context.get("request")

    def convert(name: Any) -> Any:
        if not name:
            return None
        url = storage.url(name)
        return request.build_absolute_uri(url) if request is not None else url

    return convert


def _utc_is_current(field: Any) -> bool:
    """True when DRF would write `field`'s datetimes in UTC."""
    zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
    return zone is dt.UTC or getattr(zone, "key", None) == "UTC"


def _related_value(field: Any) -> Converter | None:
    """A related field's output of the joined value: a slug as it is, an id through the
    primary key field's `pk_field` when it has one."""
    pk_field = getattr(field, "pk_field", None)
    if isinstance(field, serializers.PrimaryKeyRelatedField) and pk_field is not None:
        convert: Converter = pk_field.to_representation
        return convert
    return None


def _is_uuid_text(field: Any) -> bool:
    """A UUIDField writing the hyphenated form: `str(value)` is DRF's output."""
    return isinstance(field, serializers.UUIDField) and field.uuid_format == "hex_verbose"


def _is_utc_iso_datetime(field: Any) -> bool:
    """DRF's own DateTimeField writing ISO 8601 in UTC at this moment."""
    output = getattr(field, "format", None) or api_settings.DATETIME_FORMAT or ""
    return (
        isinstance(field, serializers.DateTimeField)
        and type(field).to_representation is serializers.DateTimeField.to_representation
        and str(output).lower() == "iso-8601"
        and _utc_is_current(field)
    )


def _is_plain_decimal(field: Any) -> bool:
    """DRF's own DecimalField writing a plain string at a fixed scale."""
    return (
        type(field) is serializers.DecimalField
        and bool(getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING))
        and not field.localize
        and not getattr(field, "normalize_output", False)
        and field.decimal_places is not None
        and field.max_digits is not None
    )


def _uuid_text(_field: Any) -> Converter:
    """`str`: DRF's output of a UUID in the hyphenated form."""
    return str


# (does it apply to this serializer field, the converter it gets): tried in order.
_FAST_PATHS: tuple[tuple[Callable[[Any], bool], Callable[[Any], Converter]], ...] = (
    (_is_uuid_text, _uuid_text),
    (_is_utc_iso_datetime, _utc_datetime),
    (_is_plain_decimal, _scaled_decimal),
)


@dataclass(frozen=True)
class _Column:
    """One output key read from one selected column."""

    key: str
    column: str
    field: Any
    model_field: Any
    guard: str | None = None  # a nullable foreign key on the path: None there means missing

    def converter(self, context: Mapping[str, Any]) -> Converter | None:
        """How a value (not None) becomes output; None when it is output as it is."""
        serializer_field, model_field = self.field, self.model_field
        if isinstance(serializer_field, serializers.FileField):
            return _file_url(serializer_field, model_field, context)
        if isinstance(serializer_field, serializers.RelatedField):
            return _related_value(serializer_field)
        identity = identity_type(serializer_field)
        if identity is not None:
            column_type = (
                _COLUMN_TYPES.get(model_field.get_internal_type()) if model_field else None
            )
            return None if identity is column_type else value_converter(serializer_field)
        for applies, fast in _FAST_PATHS:
            if applies(serializer_field):
                return fast(serializer_field)
        if isinstance(serializer_field, serializers.ReadOnlyField):
            return None
        exact: Converter = serializer_field.to_representation  # DRF's own conversion
        return exact

    def missing(self) -> Getter:
        """What DRF outputs when the path crosses a null relation (Field.get_attribute)."""
        serializer_field = self.field
        if serializer_field.default is not empty:

            def default(_row: dict[str, Any]) -> Any:
                try:
                    value = serializer_field.get_default()
                except SkipField:
                    return _SKIP
                return None if value is None else serializer_field.to_representation(value)

            return default
        if serializer_field.allow_null:
            return lambda _row: None
        return lambda _row: _SKIP


@dataclass(frozen=True)
class KnownRelation:
    """The related objects a write has just linked, per parent id, in the order `source`
    (the queryset the write looked them up in) returned them."""

    source: models.QuerySet[Any]
    objects: dict[Any, list[Any]]

    def read_as(self, queryset: models.QuerySet[Any]) -> bool:
        """True when a read through `queryset` gives these objects in this order: both are
        the same query (same model, filters and ordering), compared by their SQL."""
        if self.source.model is not queryset.model:
            return False
        try:
            return str(self.source.query) == str(queryset.query)
        except EmptyResultSet:
            return False


def written_relations(write_serializer: Any, instance: Any) -> dict[str, KnownRelation]:
    """The to-many relations a single write set from `write_serializer`'s validated data,
    as the read after it would order them (apps.core.http.bulk.related_lookups_prefetch
    looked them up with one ordered query). Relations it did not set are left out."""
    found: dict[str, KnownRelation] = {}
    validated = getattr(write_serializer, "validated_data", None)
    if not isinstance(validated, Mapping):
        return found
    for serializer_field in write_serializer.fields.values():
        if not isinstance(serializer_field, ManyRelatedField) or serializer_field.read_only:
            continue
        lookup: Any = getattr(serializer_field.child_relation, "queryset", None)
        chosen = validated.get(serializer_field.source)
        if not isinstance(lookup, InMemoryLookup) or lookup.source is None or chosen is None:
            continue
        picked = {obj.pk for obj in chosen}
        ordered = [obj for obj in lookup.rows.values() if obj.pk in picked]
        found[str(serializer_field.source)] = KnownRelation(
            source=lookup.source.all(), objects={instance.pk: ordered}
        )
    return found


class _RowView:
    """A row as the object a ProjectedMethodField's method reads: its declared columns as
    attributes, file columns as FieldFiles."""

    __slots__ = ("_files", "_row")

    def __init__(self, row: dict[str, Any], files: Mapping[str, Any]) -> None:
        """`files`: the file columns' model fields, by name."""
        self._row, self._files = row, files

    def __getattr__(self, name: str) -> Any:
        """The column's value (AttributeError for a column the field did not declare)."""
        try:
            value = self._row[name]
        except KeyError:
            raise AttributeError(f"{name!r} is not in the field's `reads`") from None
        model_field = self._files.get(name)
        if model_field is None:
            return value
        return FieldFile(None, model_field, value or "")  # type: ignore[arg-type] # read-only: no instance


@dataclass(frozen=True)
class _Method:
    """A ProjectedMethodField: its method called on a view of the row."""

    key: str
    method_name: str
    columns: tuple[str, ...]
    files: dict[str, Any]


@dataclass(frozen=True)
class _NestedOne:
    """A nested serializer over a forward relation: its fields are joined columns."""

    key: str
    guard: str | None  # the foreign key: None there means the nested object is null
    plan: RowPlan


@dataclass(frozen=True)
class _Many:
    """A many-to-many or reverse relation: one extra query for the page."""

    key: str
    relation: str  # the relation's name on the parent model (the prefetch lookup)
    model: type[models.Model]
    parent_column: str  # on the related model: the parent's id (a values() lookup)
    value: _Column | None  # a slug or primary key field's column
    child: Any = None  # a nested serializer (instance) for each related row

    def related_queryset(self, prefetches: Sequence[Any]) -> models.QuerySet[Any]:
        """The selector's `Prefetch` queryset for this relation, else the related model's
        default manager (what `prefetch_related` reads through)."""
        for lookup in prefetches:
            if (
                isinstance(lookup, Prefetch)
                and lookup.prefetch_through == self.relation
                and lookup.to_attr is None
                and lookup.queryset is not None
            ):
                return lookup.queryset
        return self.model._default_manager.all()

    def fetch(
        self,
        parent_ids: list[Any],
        context: Mapping[str, Any],
        prefetches: Sequence[Any],
        known: KnownRelation | None = None,
    ) -> dict[Any, list[Any]]:
        """Each parent id's outputs, in the relation's order: from `known` (what a write
        just linked) when it was read through the same queryset, else with one query."""
        found: dict[Any, list[Any]] = {}
        if not parent_ids:
            return found
        related = self.related_queryset(prefetches)
        if self.value is not None and known is not None and known.read_as(related):
            convert = self.value.converter(context)
            name = self.value.column
            for parent_id, objects in known.objects.items():
                values = [getattr(obj, name) for obj in objects]
                found[parent_id] = [
                    None if v is None else (v if convert is None else convert(v)) for v in values
                ]
            return found
        queryset = related.filter(**{f"{self.parent_column}__in": parent_ids})
        if self.value is not None:
            convert = self.value.converter(context)
            for parent_id, value in queryset.values_list(self.parent_column, self.value.column):
                found.setdefault(parent_id, []).append(
                    None if value is None else (value if convert is None else convert(value))
                )
            return found
        plan = projection_plan_for(self.child, queryset)
        rows = list(plan.select(queryset, extra=(self.parent_column,)))
        outputs = plan.represent(rows, context, prefetch_lookups(queryset))
        for row, output in zip(rows, outputs, strict=True):
            found.setdefault(row[self.parent_column], []).append(output)
        return found


@dataclass
class RowPlan:
    """Compiled reads of one serializer over one model (see the module docstring)."""

    model: type[models.Model]
    columns: list[_Column] = field(default_factory=list)
    nested: list[_NestedOne] = field(default_factory=list)
    many: list[_Many] = field(default_factory=list)
    methods: list[_Method] = field(default_factory=list)
    order: list[tuple[str, Any]] = field(default_factory=list)  # (kind, part) in field order
    serializer_class: Any = None  # instantiated with the context when methods are called

    def lookups(self) -> list[str]:
        """Every values() lookup the plan reads."""
        found: list[str] = []
        for column in self.columns:
            found.append(column.column)
            if column.guard:
                found.append(column.guard)
        for nested in self.nested:
            if nested.guard:
                found.append(nested.guard)
            found.extend(nested.plan.lookups())
        for method in self.methods:
            found.extend(method.columns)
        if self.many:
            found.append(self.pk_lookup)
        return list(dict.fromkeys(found))

    @property
    def pk_lookup(self) -> str:
        """The lookup of the row's primary key: its own column when the plan reads it
        (`id`), else `pk` (read once, not twice)."""
        name = self.model._meta.pk.name
        return name if any(column.column == name for column in self.columns) else "pk"

    def select(self, queryset: models.QuerySet[Any], extra: Iterable[str] = ()) -> Any:
        """`queryset` as dicts of what the plan reads (and `extra` lookups, e.g. a cursor's
        ordering)."""
        distinct = ("pk",) if queryset.query.distinct else ()  # DISTINCT applies to the columns
        lookups = dict.fromkeys([*self.lookups(), *extra, *distinct])
        return queryset.prefetch_related(None).values(*lookups)

    def getters(
        self,
        rows: list[dict[str, Any]],
        context: Mapping[str, Any],
        prefetches: Sequence[Any],
        known: Mapping[str, KnownRelation] | None = None,
    ) -> list[tuple[str, str | None, Converter | None, Getter | None]]:
        """Per output key, in field order: `(key, column, convert, None)` for a plain column,
        `(key, None, None, getter)` for anything else. Runs the page's extra queries."""
        bound: list[tuple[str, str | None, Converter | None, Getter | None]] = []
        serializer = None
        for kind, part in self.order:
            if kind == "method":
                if serializer is None:
                    serializer = self.serializer_class(context=context)
                method = getattr(serializer, part.method_name)
                bound.append((part.key, None, None, _called_on_view(method, part.files)))
                continue
            if kind == "column":
                column: _Column = part
                convert = column.converter(context)
                if column.guard is None:
                    bound.append((column.key, column.column, convert, None))
                else:
                    bound.append((column.key, None, None, self._guarded(column, convert)))
            elif kind == "nested":
                bound.append((part.key, None, None, self._nested(part, rows, context)))
            else:
                many: _Many = part
                written = (known or {}).get(many.relation)
                pk = self.pk_lookup
                found = many.fetch([row[pk] for row in rows], context, prefetches, written)
                bound.append((many.key, None, None, _related_of(found, pk)))
        return bound

    @staticmethod
    def _guarded(column: _Column, convert: Converter | None) -> Getter:
        """A column behind a nullable relation: DRF's missing value when the relation is null."""
        missing, guard, name = column.missing(), column.guard, column.column

        def get(row: dict[str, Any]) -> Any:
            if row[guard] is None:  # type: ignore[index]
                return missing(row)
            value = row[name]
            return None if value is None else (value if convert is None else convert(value))

        return get

    @staticmethod
    def _nested(part: _NestedOne, rows: list[dict[str, Any]], context: Mapping[str, Any]) -> Getter:
        """A nested object from its joined columns (null when its foreign key is)."""
        bound = part.plan.getters(rows, context, ())
        guard = part.guard

        def get(row: dict[str, Any]) -> Any:
            if guard is not None and row[guard] is None:
                return None
            return RowPlan._output(row, bound)

        return get

    @staticmethod
    def _output(
        row: dict[str, Any],
        bound: list[tuple[str, str | None, Converter | None, Getter | None]],
    ) -> dict[str, Any]:
        """One row's output dict."""
        output: dict[str, Any] = {}
        for key, column, convert, getter in bound:
            if getter is None:
                value = row[column]  # type: ignore[index]
                output[key] = (
                    None if value is None else (value if convert is None else convert(value))
                )
            else:
                value = getter(row)
                if value is not _SKIP:
                    output[key] = value
        return output

    def represent(
        self,
        rows: list[dict[str, Any]],
        context: Mapping[str, Any],
        prefetches: Sequence[Any],
        known: Mapping[str, KnownRelation] | None = None,
    ) -> list[dict[str, Any]]:
        """The output of every row, as the serializer would give it for the instances
        (`known`: to-many relations a write has just set, by relation name)."""
        bound = self.getters(rows, context, prefetches, known)
        output = RowPlan._output
        return [output(row, bound) for row in rows]


def _called_on_view(method: Callable[[Any], Any], files: Mapping[str, Any]) -> Getter:
    """A method field's output for a row."""
    return lambda row: method(_RowView(row, files))


def _related_of(found: dict[Any, list[Any]], pk: str) -> Getter:
    """A row's related outputs (an empty list when it has none)."""
    return lambda row: found.get(row[pk], [])


def prefetch_lookups(queryset: models.QuerySet[Any]) -> Sequence[Any]:
    """The queryset's `prefetch_related` lookups. Django keeps them in a private attribute
    and has no public reader; a plan needs them to read a relation through the selector's
    `Prefetch` queryset, as the model path would."""
    lookups: Sequence[Any] = getattr(queryset, "_prefetch_related_lookups", ())
    return lookups


def _concrete_field(model: type[models.Model], name: str) -> Any:
    """The concrete field named (or with the attname) `name` on `model`; FieldDoesNotExist
    for anything else (a property, a reverse relation)."""
    found: Any
    try:
        found = model._meta.get_field(name)
    except FieldDoesNotExist:
        found = next((f for f in model._meta.concrete_fields if f.attname == name), None)
        if found is None:
            raise
    if not found.concrete and not (found.many_to_many or found.one_to_many):
        raise FieldDoesNotExist(f"{model.__name__}.{name} is not a column (a reverse relation)")
    return found


def _forward_path(
    model: type[models.Model], names: list[str], where: str
) -> tuple[type[models.Model], list[str], str | None]:
    """Walk forward relations: (the model reached, the lookup parts, the first nullable
    relation's lookup or None)."""
    parts: list[str] = []
    guard: str | None = None
    for name in names:
        try:
            relation = model._meta.get_field(name)
        except FieldDoesNotExist as error:
            raise UnprojectableError(
                f"{where}: '{name}' is not a field of {model.__name__}"
            ) from error
        if not (relation.is_relation and relation.concrete and not relation.many_to_many):
            raise UnprojectableError(f"{where}: '{name}' is not a forward relation")
        parts.append(relation.name)
        if relation.null:
            if guard is not None:  # DRF would skip or raise at whichever hop is null
                raise UnprojectableError(f"{where}: more than one nullable relation on the path")
            guard = "__".join(parts)
        model = relation.related_model  # type: ignore[assignment]
    return model, parts, guard


class _Compiler:
    """Builds the RowPlan of a serializer's fields over a model."""

    def __init__(self, annotations: Iterable[str]) -> None:
        """`annotations`: names the top-level queryset annotates (readable as columns)."""
        self.annotations = set(annotations)

    def compile(
        self,
        fields: Iterable[Any],
        model: type[models.Model],
        *,
        prefix: list[str] | None = None,
        where: str,
    ) -> RowPlan:
        """The plan of `fields` read on `model` (joined under `prefix` when nested)."""
        plan = RowPlan(model=model)
        for serializer_field in fields:
            if serializer_field.write_only:
                continue
            self._add(
                plan,
                serializer_field,
                model,
                prefix or [],
                f"{where}.{serializer_field.field_name}",
            )
        return plan

    def _add(
        self, plan: RowPlan, serializer_field: Any, model: Any, prefix: list[str], where: str
    ) -> None:
        """Add one field to `plan`, or raise UnprojectableError."""
        key = str(serializer_field.field_name)
        source = str(serializer_field.source)
        if isinstance(serializer_field, ProjectedMethodField) and not prefix:
            plan.methods.append(self._method(serializer_field, model, key, where))
            plan.order.append(("method", plan.methods[-1]))
            return
        if source == "*" or isinstance(serializer_field, serializers.SerializerMethodField):
            raise UnprojectableError(f"{where}: computed by the serializer, not read from a column")
        names = source.split(".")
        if isinstance(serializer_field, ManyRelatedField | serializers.ListSerializer):
            if prefix or len(names) != 1:
                raise UnprojectableError(f"{where}: a to-many relation below another relation")
            plan.many.append(self._many(serializer_field, model, names[0], key, where))
            plan.order.append(("many", plan.many[-1]))
            return
        if isinstance(serializer_field, serializers.Serializer):
            plan.nested.append(self._nested_one(serializer_field, model, names, prefix, where))
            plan.order.append(("nested", plan.nested[-1]))
            return
        related, parts, guard = _forward_path(model, names[:-1], where)
        last = names[-1]
        model_field: Any = None
        if not prefix and not parts and last in self.annotations:
            column = last
        elif last == "pk":
            column, model_field = "__".join([*prefix, *parts, "pk"]), related._meta.pk
        else:
            try:
                model_field = _concrete_field(related, last)
            except FieldDoesNotExist as error:
                raise UnprojectableError(
                    f"{where}: '{last}' is not a column of {related.__name__} "
                    "(a property or method) nor an annotation"
                ) from error
            column, model_field = self._value_column(
                serializer_field, model_field, last, [*prefix, *parts], where
            )
        if guard is not None:
            guard = "__".join([*prefix, guard])
            if (
                serializer_field.default is empty
                and not serializer_field.allow_null
                and serializer_field.required
            ):
                raise UnprojectableError(f"{where}: DRF raises on a null relation here")
        if isinstance(serializer_field, serializers.RelatedField | serializers.FileField) and (
            type(serializer_field).to_representation not in _KNOWN_OUTPUTS
        ):
            raise UnprojectableError(
                f"{where}: {type(serializer_field).__name__} has its own output"
            )
        plan.columns.append(
            _Column(
                key=key, column=column, field=serializer_field, model_field=model_field, guard=guard
            )
        )
        plan.order.append(("column", plan.columns[-1]))

    @staticmethod
    def _value_column(
        serializer_field: Any, model_field: Any, last: str, parts: list[str], where: str
    ) -> tuple[str, Any]:
        """The lookup of a concrete field's value, and the model field the value comes from
        (a relation's id column reads as its target field)."""
        if not model_field.is_relation:
            return "__".join([*parts, model_field.name]), model_field
        if model_field.many_to_many or model_field.one_to_many:
            raise UnprojectableError(f"{where}: a to-many relation read by a single field")
        if last == model_field.attname and last != model_field.name:  # `category_id`
            return "__".join([*parts, model_field.name]), model_field.target_field
        if isinstance(serializer_field, serializers.PrimaryKeyRelatedField):
            return "__".join([*parts, model_field.name]), model_field.target_field
        if isinstance(serializer_field, serializers.SlugRelatedField):
            slug = _concrete_field(model_field.related_model, serializer_field.slug_field)
            return "__".join([*parts, model_field.name, serializer_field.slug_field]), slug
        raise UnprojectableError(f"{where}: a related object read by a plain field")

    def _nested_one(
        self, serializer_field: Any, model: Any, names: list[str], prefix: list[str], where: str
    ) -> _NestedOne:
        """A nested serializer over forward relations: its fields as joined columns."""
        _refuse_overrides(serializer_field, where)
        related, parts, guard = _forward_path(model, names, where)
        if guard is not None and guard != "__".join(parts):
            raise UnprojectableError(f"{where}: a nullable relation before the last one")
        child = serializer_field.fields.values()
        nested = self.compile(child, related, prefix=[*prefix, *parts], where=where)
        if nested.many or nested.methods:
            raise UnprojectableError(
                f"{where}: a to-many relation or a method inside a nested object"
            )
        full_guard = "__".join([*prefix, guard]) if guard else None
        return _NestedOne(key=str(serializer_field.field_name), guard=full_guard, plan=nested)

    @staticmethod
    def _method(serializer_field: Any, model: Any, key: str, where: str) -> _Method:
        """A ProjectedMethodField: the columns it declares, which must be the model's."""
        files: dict[str, Any] = {}
        for name in serializer_field.reads:
            try:
                model_field = model._meta.get_field(name)
            except FieldDoesNotExist as error:
                raise UnprojectableError(
                    f"{where}: reads '{name}', not a field of {model.__name__}"
                ) from error
            if not model_field.concrete or model_field.is_relation:
                raise UnprojectableError(f"{where}: reads '{name}', not a column")
            if isinstance(model_field, models.FileField):
                files[name] = model_field
        return _Method(
            key=key,
            method_name=str(serializer_field.method_name),
            columns=tuple(serializer_field.reads),
            files=files,
        )

    def _many(self, serializer_field: Any, model: Any, name: str, key: str, where: str) -> _Many:
        """A to-many relation: its related model, the lookup back to the parent, and either
        the slug/primary key column or the nested serializer."""
        try:
            relation = model._meta.get_field(name)
        except FieldDoesNotExist as error:
            raise UnprojectableError(
                f"{where}: '{name}' is not a relation of {model.__name__}"
            ) from error
        if not (relation.many_to_many or relation.one_to_many):
            raise UnprojectableError(f"{where}: '{name}' is not a to-many relation")
        related = relation.related_model
        if relation.many_to_many and relation.concrete:
            back = relation.related_query_name()
        else:  # a reverse foreign key or many-to-many: the field pointing at the parent
            back = relation.field.name
        if isinstance(serializer_field, ManyRelatedField):
            child = serializer_field.child_relation
            if type(child).to_representation not in _KNOWN_OUTPUTS[:2]:
                raise UnprojectableError(f"{where}: {type(child).__name__} has its own output")
            if isinstance(child, serializers.SlugRelatedField):
                target = _concrete_field(related, child.slug_field)
                value = _Column(key=key, column=child.slug_field, field=child, model_field=target)
            elif (
                isinstance(child, serializers.PrimaryKeyRelatedField)
                and type(child).to_representation
                is serializers.PrimaryKeyRelatedField.to_representation
            ):
                value = _Column(key=key, column="pk", field=child, model_field=related._meta.pk)
            else:
                raise UnprojectableError(f"{where}: a {type(child).__name__} of a to-many relation")
            return _Many(key=key, relation=name, model=related, parent_column=back, value=value)
        child_serializer = serializer_field.child
        if not isinstance(child_serializer, serializers.Serializer):
            raise UnprojectableError(f"{where}: a list of {type(child_serializer).__name__}")
        _compile_fields(child_serializer, related, set(), where)  # refuse early
        return _Many(
            key=key,
            relation=name,
            model=related,
            parent_column=back,
            value=None,
            child=child_serializer,
        )


# The outputs a plan reproduces from a column (a related field's id or slug, a file's URL).
_KNOWN_OUTPUTS = (
    serializers.PrimaryKeyRelatedField.to_representation,
    serializers.SlugRelatedField.to_representation,
    serializers.FileField.to_representation,
)
# Methods a read serializer may not override and still be projected: the plan reads its
# declared fields, so an override of how they are built or output would be skipped.
_SERIALIZER_HOOKS = ("to_representation", "get_fields", "__init__")


def _refuse_overrides(serializer: Any, where: str) -> None:
    """Raise UnprojectableError when the serializer's class overrides a hook the plan would
    skip (compared with the core's read serializer, or DRF's Serializer for plain ones)."""
    cls = type(serializer)
    base = next(
        b
        for b in (AppReadOnlyModelSerializer, serializers.ModelSerializer, serializers.Serializer)
        if issubclass(cls, b)
    )
    for hook in _SERIALIZER_HOOKS:
        if getattr(cls, hook) is not getattr(base, hook):
            raise UnprojectableError(f"{where}: {cls.__name__} overrides {hook}()")


def _compile_fields(serializer: Any, model: Any, annotations: set[str], where: str) -> RowPlan:
    """A serializer instance's plan over `model`."""
    _refuse_overrides(serializer, where)
    plan = _Compiler(annotations).compile(serializer.fields.values(), model, where=where)
    plan.serializer_class = type(serializer)
    return plan


_PLANS: dict[tuple[type, type, frozenset[str]], RowPlan | UnprojectableError] = {}


def _plan_key(
    serializer_class: type, queryset: models.QuerySet[Any]
) -> tuple[type, type, frozenset[str]]:
    """What a plan depends on: the serializer class, the model, the annotations' names."""
    return (serializer_class, queryset.model, frozenset(queryset.query.annotations))


def projection_plan_for(serializer: Any, queryset: models.QuerySet[Any]) -> RowPlan:
    """The plan of a serializer instance (its class's plan) for `queryset`'s model and
    annotations, compiled once; raises UnprojectableError naming the first field it cannot read."""
    key = _plan_key(type(serializer), queryset)
    plan = _PLANS.get(key)
    if plan is None:
        try:
            plan = _compile_fields(
                serializer, queryset.model, set(key[2]), type(serializer).__name__
            )
        except UnprojectableError as error:
            plan = error
        _PLANS[key] = plan
    if isinstance(plan, UnprojectableError):
        raise plan
    return plan


def projection_plan(serializer_class: type, queryset: models.QuerySet[Any]) -> RowPlan:
    """The plan of `serializer_class` for `queryset` (see projection_plan_for); the class is
    instantiated only when its plan is not compiled yet."""
    cached = _PLANS.get(_plan_key(serializer_class, queryset))
    if isinstance(cached, RowPlan):
        return cached
    if isinstance(cached, UnprojectableError):
        raise cached
    return projection_plan_for(serializer_class(), queryset)


def projection_plan_or_none(
    serializer_class: Any, queryset: models.QuerySet[Any]
) -> RowPlan | None:
    """The plan of a serializer class that declares `projected = True` (the core's read
    serializers do), or None when it does not or a field keeps it on DRF's model path."""
    if not getattr(serializer_class, "projected", False):
        return None
    try:
        return projection_plan(serializer_class, queryset)
    except UnprojectableError:
        return None


def projected_rows(
    serializer_class: type, queryset: models.QuerySet[Any], context: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Every row of `queryset` as `serializer_class(many=True).data` would give it (used by
    tests and benchmarks; views page first, see ProjectedListModelMixin)."""
    plan = projection_plan(serializer_class, queryset)
    rows = list(plan.select(queryset))
    return plan.represent(rows, context, prefetch_lookups(queryset))
