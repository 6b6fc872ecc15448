"""Signal receivers of the core layer, wired in one place.

- `model_changed` (every core write): the audit writer records it, the response cache
  forgets the model's entries. Neither knows about the other.
- RBAC cache invalidation on any write of roles, permissions, features and user roles
  (services invalidate explicitly; these also catch the admin and the shell).
- Feature sync after `migrate`.
"""

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.core.audit.writer import audit_record_changes
from apps.core.models.base import rows_soft_deleted
from apps.core.models.rbac import Feature, Role, RolePermission, UserRole
from apps.core.platform.cache import namespace_bump
from apps.core.rbac.permissions import rbac_invalidate_all, rbac_invalidate_user
from apps.core.rbac.services import features_sync
from apps.core.records.changes import model_changed

model_changed.connect(audit_record_changes, dispatch_uid="core.audit")


@receiver([post_save, post_delete, rows_soft_deleted], sender=Role)
@receiver([post_save, post_delete, rows_soft_deleted], sender=RolePermission)
@receiver([post_save, post_delete, rows_soft_deleted], sender=Feature)
@receiver(rows_soft_deleted, sender=UserRole)  # bulk: whose roles changed is not known
def rbac_definitions_changed(sender: Any, **kwargs: Any) -> None:  # noqa: ARG001
    """A role, a permission or a feature changed: every cached permission is stale."""
    rbac_invalidate_all()


@receiver([post_save, post_delete], sender=UserRole)
def user_roles_changed(sender: Any, instance: UserRole, **kwargs: Any) -> None:  # noqa: ARG001
    """A user's roles changed: that user's cached permissions are stale."""
    rbac_invalidate_user(instance.user_id)


@receiver([model_changed, rows_soft_deleted])
def cached_model_changed(sender: Any, **kwargs: Any) -> None:
    """A core write, or a bulk soft delete (no audit rows), makes the model's cache stale."""
    namespace_bump(sender._meta.label_lower)


def sync_features_after_migrate(sender: Any, **kwargs: Any) -> None:  # noqa: ARG001
    """post_migrate (core app): create the features the views declare."""
    features_sync()
