"""Demo chat for `manage.py seed`: customers and managers may chat (managers moderate the
messages of the rooms they are in: scope `all` on `chat.messages`); the demo customer and the
manager share a direct room with a first message."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from apps.chat.services import message_send, room_create_direct
from apps.core.models import PermissionScope, Role
from apps.core.rbac.services import role_features_grant

ROOMS = "chat.rooms"
MESSAGES = "chat.messages"
DEMO_CUSTOMER_EMAIL = "customer@example.com"
DEMO_MANAGER_EMAIL = "manager@example.com"
WELCOME = "Hello! Ask us anything about your orders here."


def seed(*, command: BaseCommand) -> None:
    """Grant chat to customers and managers; open the demo direct room."""
    customer, manager = Role.objects.get(code="customer"), Role.objects.get(code="manager")
    for role, feature, scope in (
        (customer, ROOMS, PermissionScope.OWN),
        (customer, MESSAGES, PermissionScope.OWN),
        (manager, ROOMS, PermissionScope.OWN),
        (manager, MESSAGES, PermissionScope.ALL),
    ):
        role_features_grant(role=role, prefix=feature, write=True, scope=scope)
    users = get_user_model().objects
    demo_customer = users.filter(email=DEMO_CUSTOMER_EMAIL).first()
    demo_manager = users.filter(email=DEMO_MANAGER_EMAIL).first()
    if demo_customer is None or demo_manager is None:
        command.stdout.write("Demo chat skipped (no demo customer or manager).")
        return
    room, created = room_create_direct(creator=demo_manager, other_id=demo_customer.pk)
    if created:
        message_send(room_id=room.pk, sender=demo_manager, body=WELCOME, client_id="seed-welcome")
        command.stdout.write(f"Demo chat room {room.pk} opened by the manager.")
    else:
        command.stdout.write("Demo chat room already there.")
