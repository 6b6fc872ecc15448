"""URLs of the core endpoints: /rbac/, /audit-logs/, /trash/, /uploads/."""

from django.urls import path

from apps.core.api.audit import AuditLogViewSet
from apps.core.api.rbac import FeatureViewSet, RoleViewSet, UserRolesAPIView
from apps.core.api.trash import (
    TrashListAPIView,
    TrashModelsAPIView,
    TrashPurgeAPIView,
    TrashRestoreAPIView,
)
from apps.core.api.uploads import CompleteAPIView, LocalUploadAPIView, PresignAPIView
from apps.core.http.routers import AppRouter

router = AppRouter()
router.register("rbac/features", FeatureViewSet, basename="rbac-feature")
router.register("rbac/roles", RoleViewSet, basename="rbac-role")
router.register("audit-logs", AuditLogViewSet, basename="audit-log")

urlpatterns = [
    path("rbac/users/<uuid:user_id>/roles/", UserRolesAPIView.as_view(), name="rbac-user-roles"),
    path("trash/", TrashListAPIView.as_view(), name="trash-list"),
    path("trash/models/", TrashModelsAPIView.as_view(), name="trash-models"),
    path(
        "trash/<str:model>/<str:pk>/restore/", TrashRestoreAPIView.as_view(), name="trash-restore"
    ),
    path("trash/<str:model>/<str:pk>/", TrashPurgeAPIView.as_view(), name="trash-purge"),
    path("uploads/presign/", PresignAPIView.as_view(), name="upload-presign"),
    path("uploads/complete/", CompleteAPIView.as_view(), name="upload-complete"),
    path("uploads/local/<str:token>/", LocalUploadAPIView.as_view(), name="upload-local"),
    *router.urls,
]
