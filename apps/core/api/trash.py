"""`/trash/`: soft-deleted rows of any model (admin); restore; purge (superuser)."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.serializers import TrashItemSerializer
from apps.core.http.pagination import AppPageNumberPagination
from apps.core.http.permissions import AllowSuperuserOnly, AllowTrashAccess
from apps.core.http.views import AppAPIView
from apps.core.records.selectors import trash_get, trash_list, trash_model_get
from apps.core.records.services import object_purge, object_restore

TAGS = ["trash"]
RESTORED_MESSAGE = "Restored."
PURGED_MESSAGE = "Deleted permanently."


class TrashListAPIView(AppAPIView):
    """`GET /trash/?model=app_label.model`: the model's soft-deleted rows, paged."""

    permission_classes = (AllowTrashAccess,)

    @extend_schema(
        tags=TAGS,
        parameters=[OpenApiParameter("model", str, required=True, description="app_label.model")],
        responses={200: TrashItemSerializer(many=True)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One page of deleted rows, most recently deleted first."""
        model = trash_model_get(label=request.query_params.get("model"))
        paginator = AppPageNumberPagination()
        page = paginator.paginate_queryset(trash_list(model=model), request, view=self)
        data = TrashItemSerializer(page, many=True).data
        return self.send_response(data, pagination=paginator.get_pagination_meta())


class TrashRestoreAPIView(AppAPIView):
    """`POST /trash/{model}/{id}/restore/`: bring a row back (409 if its unique slot is taken)."""

    permission_classes = (AllowTrashAccess,)

    @extend_schema(tags=TAGS, request=None, responses={200: TrashItemSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Restore and answer with the row as it was in the trash."""
        model = trash_model_get(label=kwargs["model"], attr=None)
        instance = trash_get(model=model, pk=kwargs["pk"])
        data = TrashItemSerializer(instance).data
        object_restore(instance=instance)
        return self.send_response(data, message=RESTORED_MESSAGE)


class TrashPurgeAPIView(AppAPIView):
    """`DELETE /trash/{model}/{id}/`: delete a trashed row for good (superusers only)."""

    permission_classes = (AllowSuperuserOnly,)

    @extend_schema(tags=TAGS, responses={200: None})
    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Purge; 409 when other rows still protect it."""
        model = trash_model_get(label=kwargs["model"], attr=None)
        object_purge(instance=trash_get(model=model, pk=kwargs["pk"]))
        return self.send_response(None, message=PURGED_MESSAGE)
