"""`/trash/`: the models with a trash and their soft-deleted rows (admin); restore; purge
(superuser)."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.serializers import TrashItemSerializer
from apps.core.http.openapi import ErrorEnvelopeSerializer
from apps.core.http.pagination import AppPageNumberPagination
from apps.core.http.permissions import AllowSuperuserOnly, AllowTrashAccess
from apps.core.http.serializers import AppSerializer
from apps.core.http.views import AppAPIView
from apps.core.models.base import BaseModel
from apps.core.platform.routes import routed_view_classes
from apps.core.rbac.permissions import user_permission_scope
from apps.core.rbac.services import model_features
from apps.core.records.selectors import trash_get, trash_list, trash_model_get, trash_models
from apps.core.records.services import object_purge, object_restore
from apps.core.records.trash_counts import trash_counts

TAGS = ["trash"]
RESTORED_MESSAGE = "Restored."
PURGED_MESSAGE = "Deleted permanently."


def trash_models_visible(user: Any) -> list[type[BaseModel]]:
    """The models whose trash `user` may open, by label: every one for staff; for others
    those whose feature grants them `delete` over all rows (as AllowTrashAccess decides)."""
    every = trash_models()
    if user.is_staff or user.is_superuser:
        return [every[label] for label in sorted(every)]
    features = model_features()
    return [
        every[label]
        for label in sorted(every)
        if label in features
        and user_permission_scope(user=user, feature=features[label], flag="delete") == "all"
    ]


class AllowTrashModelsAccess(AllowTrashAccess):
    """Signed-in callers who may open the trash of at least one model."""

    def has_permission(self, request: Request, view: Any) -> bool:
        """Staff, or some model's feature grants the caller delete over all rows."""
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return bool(trash_models_visible(user))


class TrashModelSerializer(AppSerializer):
    """One model that has a trash, with how many rows are in it."""

    model = serializers.CharField(
        read_only=True, help_text="`app_label.model`: `?model=` of the trash list."
    )
    app_label = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True, help_text="The model's name, e.g. `product`.")
    verbose_name = serializers.CharField(read_only=True)
    verbose_name_plural = serializers.CharField(read_only=True)
    count = serializers.IntegerField(read_only=True, help_text="Soft-deleted rows in its trash.")


def trash_model_items(models: list[type[BaseModel]]) -> list[dict[str, Any]]:
    """Each model with its trash's size (one query), as TrashModelSerializer shows it."""
    counts = trash_counts(models=models)
    return [
        {
            "model": model._meta.label_lower,
            "app_label": model._meta.app_label,
            "name": model._meta.model_name,
            "verbose_name": str(model._meta.verbose_name),
            "verbose_name_plural": str(model._meta.verbose_name_plural),
            "count": counts.get(model._meta.label_lower, 0),
        }
        for model in models
    ]


class TrashModelsAPIView(AppAPIView):
    """`GET /trash/models/`: the models whose trash the caller may open, for the admin screen."""

    permission_classes = (AllowTrashModelsAccess,)

    @extend_schema(
        tags=TAGS,
        responses={200: TrashModelSerializer(many=True)},
        summary="List the models that have a trash",
        description=(
            "Every model whose trash the caller may open (staff: all of them; others: the "
            "models their roles may delete over all rows), by `model` label, with how many "
            "soft-deleted rows each holds (0 included). Open one with "
            "`GET /trash/?model=<model>`. Not paginated: one item per model."
        ),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The caller's trash models, sorted by label."""
        items = trash_model_items(trash_models_visible(request.user))
        return self.send_response(TrashModelSerializer(items, many=True).data)


class TrashListAPIView(AppAPIView):
    """`GET /trash/?model=app_label.model`: the model's soft-deleted rows, paged."""

    permission_classes = (AllowTrashAccess,)
    pagination_class = AppPageNumberPagination  # also what the schema documents

    @extend_schema(
        tags=TAGS,
        parameters=[OpenApiParameter("model", str, required=True, description="app_label.model")],
        responses={
            200: TrashItemSerializer(many=True),
            404: OpenApiResponse(ErrorEnvelopeSerializer, description="`page` is not a number."),
        },
        summary="List the soft-deleted rows of one model",
        description=(
            "One page of the rows of `model` (an `app_label.model` of `GET /trash/models/`) "
            "that were soft-deleted, most recently deleted first, with when and by whom. 400 "
            "on `model` when it is missing or names no model with a trash; 403 when the "
            "caller's roles may not delete that model's rows over all rows (staff may)."
        ),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One page of deleted rows, most recently deleted first."""
        model = trash_model_get(label=request.query_params.get("model"))
        paginator = self.pagination_class()
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
        summary="Restore a soft-deleted row",
        description=(
            "Brings the row back (audited). 404 when it is not in the trash; 409 when a live "
            "row has taken its unique value meanwhile. "
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

    @extend_schema(
        tags=TAGS,
        responses={200: None},
        summary="Delete a soft-deleted row for good",
        description=(
            "Superusers only; irreversible (audited with the row's last values). 404 when the "
            "row is not in the trash; 409 when other rows still refer to it."
        ),
    )
    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Purge; 409 when other rows still protect it."""
        model = trash_model_get(label=kwargs["model"], attr=None)
        object_purge(instance=trash_get(model=model, pk=kwargs["pk"]))
        return self.send_response(None, message=PURGED_MESSAGE)
