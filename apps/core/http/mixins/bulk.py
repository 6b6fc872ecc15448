"""Bulk writes from JSON arrays: POST an array to create, PATCH an array to update.

All items or none; errors are reported by index (`3.price`). Each action has its own hook
(`perform_bulk_create`, `perform_bulk_update`), so an override never asks whether the payload
was a list.
"""

import uuid
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.http.envelope import AppResponse
from apps.core.http.mixins.create import AppCreateModelMixin
from apps.core.http.mixins.serializers import ResponseSerializerMixin

NOT_A_LIST_MESSAGE = "Expected a list of items."
BULK_HOOK_MESSAGE = (
    "{view} overrides perform_create but not perform_bulk_create, so an array posted to it "
    "would skip that override; define perform_bulk_create (or have it refuse arrays)."
)


class BulkCreateModelMixin(AppCreateModelMixin):
    """`create` of a JSON array: `perform_bulk_create`, answers 201 with every object.

    A single object goes to AppCreateModelMixin's `create`. Hooks: `perform_bulk_create(serializer)`
    returns the created objects; `get_save_kwargs()` and `get_response_data()` as for one.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Refuse a view whose one-object hook has no bulk counterpart."""
        super().__init_subclass__(**kwargs)
        own_create = cls.perform_create is not AppCreateModelMixin.perform_create
        default_bulk = cls.perform_bulk_create is BulkCreateModelMixin.perform_bulk_create
        if own_create and default_bulk:
            raise ImproperlyConfigured(BULK_HOOK_MESSAGE.format(view=cls.__name__))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Create one object, or every item of an array."""
        if not isinstance(request.data, list):
            return super().create(request, *args, **kwargs)
        serializer = self.get_serializer(data=request.data, many=True)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            created = self.perform_bulk_create(serializer)
        data = self.get_response_data(list(created), written=serializer)
        return AppResponse(data, status=status.HTTP_201_CREATED)

    def perform_bulk_create(self, serializer: serializers.BaseSerializer[Any]) -> Any:
        """Save every item (one INSERT per table through the core services)."""
        return serializer.save(**self.get_save_kwargs())


class BulkUpdateModelMixin(ResponseSerializerMixin):
    """`bulk_update`: PATCH of `[{id, version, ...}, ...]` on the collection (AppRouter).

    Needs only GenericAPIView. The rows the caller may change (`get_queryset()`, so scope
    applies) reach the list serializer as its `instance`; an id outside them is an error at its
    index. Hooks: `perform_bulk_update(serializer)` returns the updated objects;
    `get_response_data(instances, written)`.
    """

    def bulk_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Update every item of the array, or none."""
        if not isinstance(request.data, list):
            raise ValidationError({"non_field_errors": [NOT_A_LIST_MESSAGE]}, code="not_a_list")
        ids = [item.get("id") for item in request.data if isinstance(item, dict)]
        instances = list(self.get_queryset().filter(pk__in=[i for i in ids if _is_uuid(i)]))
        serializer = self.get_serializer(instances, data=request.data, many=True, partial=True)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            updated = self.perform_bulk_update(serializer)
        return AppResponse(self.get_response_data(list(updated), written=serializer))

    def perform_bulk_update(self, serializer: serializers.BaseSerializer[Any]) -> Any:
        """Save every item (version-checked and recorded by the core services)."""
        return serializer.save()


def _is_uuid(value: Any) -> bool:
    """True when `value` parses as a UUID."""
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
