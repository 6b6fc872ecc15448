"""Permission classes: feature permissions (RBAC), admin-only and superuser-only."""

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.core.rbac.permissions import user_permission_scope
from apps.core.rbac.services import model_features

# Which permission flag each standard action needs; views add theirs in `action_flags`.
ACTION_FLAGS = {
    "list": "retrieve",
    "retrieve": "retrieve",
    "create": "create",
    "update": "update",
    "partial_update": "update",
    "bulk_update": "update",
    "destroy": "delete",
    "metadata": "retrieve",  # OPTIONS on a viewset: what the endpoint accepts
}
METHOD_ACTIONS = {
    "GET": "retrieve",
    "HEAD": "retrieve",
    "OPTIONS": "retrieve",
    "POST": "create",
    "PUT": "update",
    "PATCH": "partial_update",
    "DELETE": "destroy",
}
MISSING_FEATURE_MESSAGE = (
    "{view} uses HasFeaturePermission but declares no `feature`; "
    "add e.g. feature = 'catalog.products'."
)
MISSING_FLAG_MESSAGE = (
    "{view} has no permission flag for action '{action}'; "
    "add it to `action_flags`, e.g. action_flags = {{'{action}': 'update'}}."
)


def required_flag(view: Any) -> str:
    """The flag (`create`/`retrieve`/`update`/`delete`) the view's current action needs."""
    action = getattr(view, "action", None) or _method_action(view.request.method)
    flags = {**ACTION_FLAGS, **getattr(view, "action_flags", {})}
    if action not in flags:
        raise ImproperlyConfigured(
            MISSING_FLAG_MESSAGE.format(view=type(view).__name__, action=action)
        )
    return flags[action]


def _method_action(method: str) -> str:
    """For plain APIViews (and methods a viewset does not route): the action a method stands
    for; 405 for any other method (TRACE, PROPFIND, ...), before any permission is read."""
    if method not in METHOD_ACTIONS:
        raise MethodNotAllowed(method)
    return METHOD_ACTIONS[method]


def is_public_action(view: Any) -> bool:
    """Whether the view's current action is one of its `public_actions` (open to everyone:
    not checked by role, not scoped, cached and throttled as the public's)."""
    return getattr(view, "action", None) in getattr(view, "public_actions", ())


class HasFeaturePermission(BasePermission):
    """Allows an action when the user's roles grant its flag on the view's `feature`.

    Superusers pass. Actions in the view's `public_actions` are open to everyone. The scope
    (`own`/`all`) is applied to the queryset by the view (out of scope is a 404, not a 403).
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        """Public action, superuser, or a role granting the flag."""
        if is_public_action(view):
            return True
        feature = getattr(view, "feature", None)
        if not feature:
            raise ImproperlyConfigured(MISSING_FEATURE_MESSAGE.format(view=type(view).__name__))
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if user.is_superuser:
            return True
        return (
            user_permission_scope(user=user, feature=feature, flag=required_flag(view)) is not None
        )


class AllowAdminOnly(BasePermission):
    """Staff users (those who may use the Django admin) and superusers."""

    access_description = "admins (staff) only"

    def has_permission(self, request: Request, view: Any) -> bool:
        """True for staff."""
        user = request.user
        return bool(user and user.is_authenticated and (user.is_staff or user.is_superuser))


class AllowTrashAccess(BasePermission):
    """Staff, or a user whose roles grant `delete` with scope `all` on the feature of the
    model named by the request (`?model=` or the URL): they may see and restore what they
    could delete, and nothing else."""

    access_description = (
        "staff, or users whose roles may delete every row of the model (scope `all`)"
    )

    def has_permission(self, request: Request, view: Any) -> bool:
        """Staff, or the model's feature grants delete over all rows."""
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if user.is_staff or user.is_superuser:
            return True
        label = (view.kwargs.get("model") or request.query_params.get("model") or "").lower()
        feature = model_features().get(label)
        if feature is None:
            return False
        return user_permission_scope(user=user, feature=feature, flag="delete") == "all"


class AllowSuperuserOnly(BasePermission):
    """Superusers only (irreversible operations such as purging from the trash)."""

    access_description = "superusers only"

    def has_permission(self, request: Request, view: Any) -> bool:
        """True for superusers."""
        user = request.user
        return bool(user and user.is_authenticated and user.is_superuser)
