"""Demo chat for `manage.py seed`: customers and managers may chat; the demo customer and the
manager share a direct room with a first message."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from apps.chat.services import message_send, room_create_direct
from apps.core.models import PermissionScope, Role
from apps.core.rbac.services import role_features_grant

FEATURE_PREFIX = "chat."
DEMO_CUSTOMER_EMAIL = "customer@example.com"
DEMO_MANAGER_EMAIL = "manager@example.com"
WELCOME = "Hello! Ask us anything about your orders here."


def seed(*, command: BaseCommand) -> None:
    """Grant chat to customers and managers; open the demo direct room."""
    for code in ("customer", "manager"):
        role_features_grant(
            role=Role.objects.get(code=code),
            prefix=FEATURE_PREFIX,
            write=True,
            scope=PermissionScope.OWN,
        )
    users = get_user_model().objects
    customer = users.filter(email=DEMO_CUSTOMER_EMAIL).first()
    manager = users.filter(email=DEMO_MANAGER_EMAIL).first()
    if customer is None or manager is None:
        command.stdout.write("Demo chat skipped (no demo customer or manager).")
        return
    room, created = room_create_direct(creator=manager, other_id=customer.pk)
    if created:
        message_send(room_id=room.pk, sender=manager, body=WELCOME, client_id="seed-welcome")
        command.stdout.write(f"Demo chat room {room.pk} opened by the manager.")
    else:
        command.stdout.write("Demo chat room already there.")
