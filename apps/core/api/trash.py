"""`/trash/`: soft-deleted rows of any model (admin); restore; purge (superuser)."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.serializers import TrashItemSerializer
from apps.core.http.pagination import AppPageNumberPagination
from apps.core.http.permissions import AllowSuperuserOnly, AllowTrashAccess
from apps.core.http.views import AppAPIView
from apps.core.platform.routes import routed_view_classes
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

    @extend_schema(
        tags=TAGS,
        request=None,
        responses={200: OpenApiTypes.OBJECT},
        description=(
            "Answers with the restored object as its own endpoint shows it (a product as "
            "`GET /catalog/products/{id}/` does); a model no endpoint shows answers as a "
            "trash item."
        ),
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Restore and answer with the restored object."""
        model = trash_model_get(label=kwargs["model"], attr=None)
        instance = trash_get(model=model, pk=kwargs["pk"])
        object_restore(instance=instance)
        data = restored_representation(model=model, pk=instance.pk, request=request)
        if data is None:
            data = TrashItemSerializer(instance).data
        return self.send_response(data, message=RESTORED_MESSAGE)


def restored_representation(*, model: Any, pk: Any, request: Request) -> Any | None:
    """The object as the first routed view serving `model` shows it (its `retrieve`
    serializer over its queryset, annotations included), or None when no view does."""
    for view in routed_view_classes():
        queryset = getattr(view, "queryset", None)
        if queryset is None or queryset.model is not model:
            continue
        declared = getattr(view, "serializer_classes", {})
        serializer_class: Any = declared.get("retrieve") or getattr(view, "serializer_class", None)
        if serializer_class is None:
            continue
        row = queryset.filter(pk=pk).first()
        if row is not None:
            return serializer_class(row, context={"request": request}).data
    return None


class TrashPurgeAPIView(AppAPIView):
    """`DELETE /trash/{model}/{id}/`: delete a trashed row for good (superusers only)."""

    permission_classes = (AllowSuperuserOnly,)

    @extend_schema(tags=TAGS, responses={200: None})
    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Purge; 409 when other rows still protect it."""
        model = trash_model_get(label=kwargs["model"], attr=None)
        object_purge(instance=trash_get(model=model, pk=kwargs["pk"]))
        return self.send_response(None, message=PURGED_MESSAGE)
