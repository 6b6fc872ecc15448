"""`FeatureScopeMixin`: RBAC on a model view, and the queryset narrowed to the caller's scope."""

from collections.abc import Sequence
from typing import Any, ClassVar

from django.db import models
from rest_framework.generics import GenericAPIView

from apps.core.http.permissions import HasFeaturePermission, is_public_action, required_flag
from apps.core.models import PermissionScope
from apps.core.rbac.permissions import queryset_for_flag, user_permission_scope


class FeatureScopeMixin(GenericAPIView):
    """`feature`, `public_actions`, `owner_field`, `action_flags`: who may do what, on which rows.

    Needs only GenericAPIView. `get_queryset()` is the view's `get_base_queryset()` narrowed to
    the caller's scope: scope `own` filters by `owner_field`, so another user's object is a 404,
    never a 403 and never data. Hook: `get_base_queryset()` picks a selector per action.
    """

    permission_classes: Sequence[Any] = (HasFeaturePermission,)
    feature: ClassVar[str | None] = None
    public_actions: ClassVar[tuple[str, ...]] = ()
    owner_field: ClassVar[str | None] = None
    action_flags: ClassVar[dict[str, str]] = {}
    # Whether scope `all` with `delete` on `feature` reaches every row of the model, so that
    # its holders may also list and restore the model's trash. A view whose rows are narrowed
    # by more than scope (membership, requester) says False: its trash is staff-only.
    trash_by_scope: ClassVar[bool] = True

    @classmethod
    def serves_scope_own(cls) -> bool:
        """Whether scope `own` can narrow this view's rows (it needs an `owner_field`; a view
        that scopes rows its own way overrides this). RBAC refuses to grant `own` on a
        feature served by a view that cannot (apps.core.rbac.services)."""
        return cls.owner_field is not None

    def get_queryset(self) -> models.QuerySet[Any]:
        """The base queryset, narrowed to the caller's scope."""
        return self.scope_queryset(self.get_base_queryset())

    def get_base_queryset(self) -> models.QuerySet[Any]:
        """The declared `queryset`; override to pick a selector per action (never to scope)."""
        queryset: models.QuerySet[Any] = super().get_queryset()
        return queryset

    def caller_scope(self, flag: str) -> str | None:
        """The caller's scope for `flag` on the view's feature: `all` for superusers, `all` or
        `own` as their roles grant, None for anonymous callers and those without the flag."""
        user = self.request.user
        if not user.is_authenticated or self.feature is None:
            return None
        if user.is_superuser:
            return PermissionScope.ALL
        return user_permission_scope(user=user, feature=self.feature, flag=flag)

    def scope_queryset(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        """Filter by owner when the caller's scope for this action is `own`."""
        user = self.request.user
        if is_public_action(self) or not user.is_authenticated or self.feature is None:
            return queryset
        return queryset_for_flag(
            queryset,
            user=user,
            feature=self.feature,
            flag=required_flag(self),
            owner_field=self.owner_field,
            who=type(self).__name__,
        )
