"""`SerializerByActionMixin`: a serializer class per action, declared as data."""

from typing import Any, ClassVar

from django.core.exceptions import ImproperlyConfigured
from rest_framework import serializers
from rest_framework.generics import GenericAPIView

from apps.core.http.projection import (
    RowPlan,
    prefetch_lookups,
    projection_plan_or_none,
    written_relations,
)

MISSING_SERIALIZER_MESSAGE = (
    "{view} has no serializer for action '{action}'; declare serializer_classes = "
    "{{'{action}': SomeSerializer}} or serializer_class."
)
WRITE_ACTIONS = ("create", "update", "partial_update", "bulk_update")


class ResponseSerializerMixin(GenericAPIView):
    """`get_response_data(instance, written)`: what a write answers, by default the data of
    `get_response_serializer(instance)`, the serializer a write answers with.

    Needs only GenericAPIView; the default is the action's own serializer. The write mixins
    (create, update, bulk) inherit it; SerializerByActionMixin answers with `retrieve`.
    """

    def get_response_serializer(self, instance: Any) -> serializers.BaseSerializer[Any]:
        """The action's serializer around what was written (a list for bulk writes)."""
        return self.get_serializer(instance, many=isinstance(instance, list))

    def get_response_data(self, instance: Any, written: Any = None) -> Any:
        """What a write answers: `get_response_serializer(instance).data`. `written` is the
        write serializer, from which an override may take what it need not read back."""
        return self.get_response_serializer(instance).data


class SerializerByActionMixin(ResponseSerializerMixin):
    """`serializer_classes = {"list": ..., "retrieve": ..., "write": ...}` by declaration.

    Needs only GenericAPIView. `write` serves create/update/partial_update/bulk_update unless
    they are named one by one; `retrieve` serves list and the other reads; `serializer_class`
    is the fallback. Writes answer with the `retrieve` serializer (`get_response_serializer`),
    so it must come before the write mixins in a view's bases.
    """

    serializer_classes: ClassVar[dict[str, type[serializers.BaseSerializer[Any]]]] = {}

    def get_serializer_class_for(self, action: str) -> type[serializers.BaseSerializer[Any]]:
        """The serializer class declared for `action`."""
        classes = self.serializer_classes
        if action in classes:
            return classes[action]
        if action in WRITE_ACTIONS and "write" in classes:
            return classes["write"]
        if action not in WRITE_ACTIONS and "retrieve" in classes:
            return classes["retrieve"]
        fallback = getattr(self, "serializer_class", None)
        if fallback is None:
            raise ImproperlyConfigured(
                MISSING_SERIALIZER_MESSAGE.format(view=type(self).__name__, action=action)
            )
        return fallback

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        """The serializer of the current action."""
        return self.get_serializer_class_for(getattr(self, "action", None) or "retrieve")

    def get_response_data(self, instance: Any, written: Any = None) -> Any:
        """What a write answers, in one query when the detail serializer is projected: the
        rows read through the view's queryset by the plan (columns, joins, annotations),
        in the order written; the to-many relations a single write set are taken from
        `written` (the write serializer looked them up in order), a bulk write's are read
        with one query each. Else `get_response_serializer`."""
        many = isinstance(instance, list)
        items = instance if many else [instance]
        overridden = (
            type(self).get_response_serializer
            is not SerializerByActionMixin.get_response_serializer
        )
        if overridden:  # the view answers through its own hook
            return super().get_response_data(instance, written)
        queryset = self.get_queryset()
        plan = self.response_plan(queryset)
        if plan is not None and items:
            ids = [item.pk for item in items]
            selected = plan.select(queryset.filter(pk__in=ids), extra=("pk",))
            rows = {row["pk"]: row for row in selected}
            if all(pk in rows for pk in ids):
                known = (
                    written_relations(written, instance) if written is not None and not many else {}
                )
                context = self.get_serializer_context()
                ordered = [rows[pk] for pk in ids]
                data = plan.represent(ordered, context, prefetch_lookups(queryset), known)
                return data if many else data[0]
        return super().get_response_data(instance, written)

    def response_plan(self, queryset: Any) -> RowPlan | None:
        """The detail serializer's projection plan for `queryset`, or None."""
        return projection_plan_or_none(self.get_serializer_class_for("retrieve"), queryset)

    def get_response_serializer(self, instance: Any) -> serializers.BaseSerializer[Any]:
        """The detail serializer for what a write stored, re-read through the view's queryset.

        Reading back through `get_queryset()` applies its select/prefetch_related, so the
        answer to a bulk write costs the same few queries for 10 objects as for 500.
        """
        many = isinstance(instance, list)
        items = instance if many else [instance]
        stored = {obj.pk: obj for obj in self.get_queryset().filter(pk__in=[o.pk for o in items])}
        reloaded = [stored.get(obj.pk, obj) for obj in items]
        serializer_class = self.get_serializer_class_for("retrieve")
        context = self.get_serializer_context()
        return serializer_class(reloaded if many else reloaded[0], many=many, context=context)
