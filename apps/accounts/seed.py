"""Demo users for `manage.py seed`: the superuser, a manager, a customer (passwords printed once).

Both passwords go to the git-ignored credentials file under BASE_DIR. Runs after core's step,
so the roles it hands out exist.
"""

import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.accounts.models import User
from apps.core.models.rbac import Role, UserRole

DEMO_ADMIN_EMAIL = "admin@example.com"
DEMO_MANAGER_EMAIL = "manager@example.com"
DEMO_CUSTOMER_EMAIL = "customer@example.com"
CUSTOMER_ROLE = "customer"
CREDENTIALS_FILE = ".demo-admin-password"
ADMIN_ROLE = "admin"
MANAGER_ROLE = "manager"
ADMIN_EXISTS_MESSAGE = "Demo admin {email} already exists."
ADMIN_CREATED_MESSAGE = "Demo admin created: {email} / {password} (also saved in {file})"
USER_CREATED_MESSAGE = "Demo user created: {email} / {password}"


def seed(*, command: BaseCommand) -> None:
    """The demo admin (superuser, role admin) and the demo manager (role manager), once."""
    admin = _seed_admin(command=command)
    UserRole.objects.get_or_create(user=admin, role=Role.objects.get(code=ADMIN_ROLE))
    # Not staff: the manager restores catalog rows through the feature's delete flag.
    manager = _seed_user(DEMO_MANAGER_EMAIL, "Demo Manager", command=command)
    if manager is not None:
        UserRole.objects.get_or_create(user=manager, role=Role.objects.get(code=MANAGER_ROLE))
    customer = _seed_user(DEMO_CUSTOMER_EMAIL, "Demo Customer", command=command)
    if customer is not None:
        UserRole.objects.get_or_create(user=customer, role=Role.objects.get(code=CUSTOMER_ROLE))


def credentials_path() -> Path:
    """The file the demo logins go to: DEMO_CREDENTIALS_FILE, else CREDENTIALS_FILE at the
    project root."""
    configured = settings.DEMO_CREDENTIALS_FILE
    return Path(configured) if configured else Path(settings.BASE_DIR) / CREDENTIALS_FILE


def _seed_admin(*, command: BaseCommand) -> User:
    """The demo superuser, created once with a random password (the credentials file restarts)."""
    existing = User.objects.filter(email=DEMO_ADMIN_EMAIL).first()
    if existing is not None:
        command.stdout.write(ADMIN_EXISTS_MESSAGE.format(email=DEMO_ADMIN_EMAIL))
        return existing
    password = secrets.token_urlsafe(12)
    admin = User.objects.create_superuser(DEMO_ADMIN_EMAIL, password, name="Demo Admin")
    path = credentials_path()
    path.write_text(f"{DEMO_ADMIN_EMAIL} {password}\n")
    path.chmod(0o600)
    command.stdout.write(
        command.style.SUCCESS(
            ADMIN_CREATED_MESSAGE.format(email=DEMO_ADMIN_EMAIL, password=password, file=path)
        )
    )
    return admin


def _seed_user(email: str, name: str, *, command: BaseCommand) -> User | None:
    """A demo user created once; its password is appended to the credentials file."""
    if User.objects.filter(email=email).exists():
        return None
    password = secrets.token_urlsafe(12)
    user = User.objects.create_user(email, password, name=name)
    with credentials_path().open("a") as handle:
        handle.write(f"{email} {password}\n")
    command.stdout.write(
        command.style.SUCCESS(USER_CREATED_MESSAGE.format(email=email, password=password))
    )
    return user
