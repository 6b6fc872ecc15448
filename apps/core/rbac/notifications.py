"""What RBAC tells `/ws/notifications/` sockets (docs/websockets.md): `roles.changed` to the
user whose roles the RBAC API replaced (`user_roles_set`)."""

from typing import Any

from rest_framework import serializers

from apps.core.platform.ws.events import notification_event


class RolesChangedEventSerializer(serializers.Serializer[Any]):
    """The data of `roles.changed`."""

    roles = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="The codes of the roles the user holds now, sorted.",
    )


ROLES_CHANGED = notification_event(
    name="roles.changed",
    audience="The user whose roles changed, on each of their devices.",
    data=RolesChangedEventSerializer,
    description=(
        "An admin replaced the user's roles (`PUT /api/v1/rbac/users/{id}/roles/`): what they "
        "may do changed, so reload what depends on it. The socket also re-checks its "
        "audiences (e.g. catalog editors)."
    ),
    regroup=True,
)
