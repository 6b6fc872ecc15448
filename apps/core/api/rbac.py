"""RBAC endpoints (admin): features, roles with permissions, a user's roles."""

from typing import Any

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.serializers import (
    FeatureSerializer,
    RoleSerializer,
    RoleWriteSerializer,
    UserRolesSerializer,
)
from apps.core.http.permissions import AllowAdminOnly
from apps.core.http.views import (
    AppAPIView,
    AppModelListAPIViewSet,
    AppModelRetrieveAPIViewSet,
    AppModelViewSet,
)
from apps.core.rbac.selectors import feature_list, role_list, user_role_codes
from apps.core.rbac.services import role_create, role_update, user_roles_set

TAGS = ["rbac"]


@extend_schema(tags=TAGS)
class FeatureViewSet(AppModelListAPIViewSet, AppModelRetrieveAPIViewSet):
    """The API modules roles can be granted (synced from the views that declare them)."""

    permission_classes = (AllowAdminOnly,)
    queryset = feature_list()
    serializer_class = FeatureSerializer
    search_fields = ("code", "name")
    ordering_fields = ("code", "name")


@extend_schema(tags=TAGS)
class RoleViewSet(AppModelViewSet):
    """Roles and their permissions; `permissions` in a write replaces the whole list."""

    permission_classes = (AllowAdminOnly,)
    queryset = role_list()
    serializer_classes = {"retrieve": RoleSerializer, "write": RoleWriteSerializer}
    search_fields = ("code", "name")
    ordering_fields = ("code", "name", "created_at")
    http_method_names = ("get", "post", "put", "patch", "delete", "head", "options")

    # Roles are changed one at a time (each carries its whole permission list): no PATCH of
    # the collection (AppRouter leaves it unrouted).
    bulk_update = None  # type: ignore[assignment]

    def perform_create(self, serializer: Any) -> Any:
        """Create through the RBAC service (permissions, audit, cache invalidation)."""
        return role_create(**serializer.validated_data)

    def perform_bulk_create(self, serializer: Any) -> Any:
        """Create each role of the array through the RBAC service (in the view's transaction)."""
        return [role_create(**item) for item in serializer.validated_data]

    def perform_update(self, serializer: Any) -> Any:
        """Update through the RBAC service."""
        return role_update(role=serializer.instance, data=dict(serializer.validated_data))


class UserRolesAPIView(AppAPIView):
    """`/rbac/users/{id}/roles/`: read or replace the roles a user holds."""

    permission_classes = (AllowAdminOnly,)

    @extend_schema(
        summary="Get a user's roles",
        description="The codes of the roles the user holds.",
        tags=TAGS,
        responses={200: UserRolesSerializer},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The user's role codes."""
        user = get_object_or_404(get_user_model().objects.all(), pk=kwargs["user_id"])
        return self.send_response({"roles": user_role_codes(user=user)})

    @extend_schema(
        summary="Set a user's roles",
        description=(
            "Gives the user exactly these roles (by code): the others are taken away. The user's "
            "open sockets receive `roles.changed`."
        ),
        tags=TAGS,
        request=UserRolesSerializer,
        responses={200: UserRolesSerializer},
    )
    def put(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Give the user exactly these roles."""
        user = get_object_or_404(get_user_model().objects.all(), pk=kwargs["user_id"])
        serializer = UserRolesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        codes = user_roles_set(user=user, role_codes=serializer.validated_data["roles"])
        return self.send_response({"roles": codes})
