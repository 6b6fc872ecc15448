"""`SoftDestroyModelMixin`: DELETE moves an object to the trash; answers 200 with `data: null`."""

from typing import Any

from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.http.envelope import AppResponse
from apps.core.records.services import object_soft_delete

DELETED_MESSAGE = "Deleted."


class SoftDestroyModelMixin(GenericAPIView):
    """`destroy`: soft delete with `deleted_by`, recorded in the audit log.

    Needs only GenericAPIView. Hook: `perform_destroy(instance)` (override it to call a
    service with the feature's own rules).
    """

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Soft-delete the object through `perform_destroy`."""
        self.perform_destroy(self.get_object())
        return AppResponse(None, message=DELETED_MESSAGE)

    def perform_destroy(self, instance: Any) -> None:
        """Soft delete + audit row, in one transaction."""
        object_soft_delete(instance=instance, actor=self.request.user)
