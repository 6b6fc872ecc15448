"""What the accounts app tells `/ws/notifications/` sockets (docs/websockets.md):
`profile.updated` to the user's own sockets.

Sent after any committed change of the user's profile, however it was made (`PATCH
/api/v1/auth/me/`, the Django admin): every user write goes through the core's write services,
which send `model_changed` in the write's transaction. A password change alone is not a
profile change (it closes the user's sockets instead, with 4401).
"""

from typing import Any

from apps.accounts.models import User
from apps.accounts.serializers import UserSerializer
from apps.core.models import AuditAction
from apps.core.platform.ws.events import notification_event
from apps.core.platform.ws.notify import notify_user_on_commit
from apps.core.records.changes import Change, model_changed, snapshot

# What the user sees of themselves, and what decides their audiences (staff).
PROFILE_FIELDS = ("email", "name", "phone", "is_staff", "is_superuser")

PROFILE_UPDATED = notification_event(
    name="profile.updated",
    audience="The user whose profile changed, on each of their devices.",
    data=UserSerializer,
    description=(
        "The user's profile changed (by them on another device, or by an admin); `data` is "
        "the profile as `GET /api/v1/auth/me/` answers it. The socket also re-checks its "
        "audiences (e.g. staff)."
    ),
    regroup=True,
)


def _profile_changed(change: Change) -> bool:
    """True when the write changed a field of the profile."""
    before = change.before or {}
    after = change.after or snapshot(change.instance)
    return any(before.get(name) != after.get(name) for name in PROFILE_FIELDS)


def user_rows_changed(sender: Any, action: str, changes: list[Change], **kwargs: Any) -> None:
    """`model_changed` of users: `profile.updated` to each changed user after commit."""
    if sender is not User or action != AuditAction.UPDATE:
        return
    for change in changes:
        if _profile_changed(change):
            user = change.instance  # shaped after commit: its roles are read outside the write
            notify_user_on_commit(user.pk, PROFILE_UPDATED, lambda user=user: user)


model_changed.connect(user_rows_changed, dispatch_uid="accounts.profile_updated")
