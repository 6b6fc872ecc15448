"""`AppCreateModelMixin`: POST one object to a collection; answers 201 with its detail."""

from typing import Any, ClassVar

from django.db import transaction
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.http.envelope import AppResponse
from apps.core.http.mixins.serializers import ResponseSerializerMixin


class AppCreateModelMixin(ResponseSerializerMixin):
    """`create`: validate, `perform_create`, answer 201 with `get_response_data`.

    Needs only GenericAPIView. Hooks: `perform_create(serializer)` returns what it created
    (override it to call a service); `get_save_kwargs()` adds values the payload does not carry
    (by default the caller as owner when the view declares a direct `owner_field`);
    `get_response_data(instance, written)` (default: the action's serializer's data).
    """

    owner_field: ClassVar[str | None] = None

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Create one object."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():  # overrides of perform_create stay all-or-nothing
            created = self.perform_create(serializer)
        data = self.get_response_data(created, written=serializer)
        return AppResponse(data, status=status.HTTP_201_CREATED)

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> Any:
        """Save through the serializer (which writes through the core services)."""
        return serializer.save(**self.get_save_kwargs())

    def get_save_kwargs(self) -> dict[str, Any]:
        """The owner, when `owner_field` names a direct field of the model."""
        if self.owner_field and "__" not in self.owner_field:
            return {self.owner_field: self.request.user}
        return {}
