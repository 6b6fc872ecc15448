"""`AppUpdateModelMixin`: PUT or PATCH one object; answers with its stored detail."""

from typing import Any

from django.db import transaction
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.http.envelope import AppResponse
from apps.core.http.mixins.serializers import ResponseSerializerMixin


class AppUpdateModelMixin(ResponseSerializerMixin):
    """`update`/`partial_update`: validate against the object, `perform_update`, answer.

    Needs only GenericAPIView. Hooks: `perform_update(serializer)` returns the updated object
    (override it to call a service); `get_response_data(instance, written)`.
    """

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """PUT (or PATCH with `partial=True`) of one object."""
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            updated = self.perform_update(serializer)
        return AppResponse(self.get_response_data(updated, written=serializer))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """PATCH of one object."""
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> Any:
        """Save through the serializer (version-checked and recorded by the core services)."""
        return serializer.save()
