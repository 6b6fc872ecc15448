"""`manage.py seed`: idempotent demo data for the embedded default."""

import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts.models import User
from apps.core.models.rbac import Feature, PermissionScope, Role, RolePermission, UserRole
from apps.core.rbac.services import features_sync

DEMO_ADMIN_EMAIL = "admin@example.com"
CREDENTIALS_FILE = ".demo-admin-password"
DEFAULT_ROLES = {
    "admin": "Administrator: every action on every feature",
    "manager": "Manager: runs the catalog and orders",
    "customer": "Customer: shops and manages their own data",
}


class Command(BaseCommand):
    """Features, default roles, and the demo admin (password printed once, kept git-ignored)."""

    help = "Seed demo data. Safe to run again: existing rows are left as they are."

    def handle(self, *args: Any, **options: Any) -> None:
        """Create what is missing and report it."""
        from apps.catalog.seed import catalog_seed

        with transaction.atomic():
            features_sync()
            roles = self._seed_roles()
            self._grant(roles["manager"], prefix="catalog.", write=True)
            self._grant(roles["customer"], prefix="catalog.", write=False)
            admin = self._seed_admin()
            UserRole.objects.get_or_create(user=admin, role=roles["admin"])
            self.stdout.write(catalog_seed())
            # Not staff: the manager restores catalog rows through the feature's delete flag.
            manager = self._seed_user("manager@example.com", "Demo Manager")
            if manager is not None:
                UserRole.objects.get_or_create(user=manager, role=roles["manager"])

    def _grant(self, role: Role, *, prefix: str, write: bool) -> None:
        """Give `role` every feature under `prefix` (read, or read and write), scope all."""
        granted = set(RolePermission.objects.filter(role=role).values_list("feature_id", flat=True))
        RolePermission.objects.bulk_create(
            [
                RolePermission(
                    role=role,
                    feature=feature,
                    can_retrieve=True,
                    can_create=write,
                    can_update=write,
                    can_delete=write,
                    scope=PermissionScope.ALL,
                )
                for feature in Feature.objects.filter(code__startswith=prefix).exclude(
                    pk__in=granted
                )
            ]
        )

    def _seed_user(self, email: str, name: str, *, is_staff: bool = False) -> User | None:
        """A demo user created once; its password goes to the credentials file too."""
        if User.objects.filter(email=email).exists():
            return None
        password = secrets.token_urlsafe(12)
        user = User.objects.create_user(email, password, name=name, is_staff=is_staff)
        path = settings.BASE_DIR / CREDENTIALS_FILE
        with path.open("a") as handle:
            handle.write(f"{email} {password}\n")
        self.stdout.write(self.style.SUCCESS(f"Demo user created: {email} / {password}"))
        return user

    def _seed_roles(self) -> dict[str, Role]:
        """admin, manager, customer; the admin role gets every flag on every feature."""
        roles = {}
        for code, name in DEFAULT_ROLES.items():
            roles[code], created = Role.objects.get_or_create(code=code, defaults={"name": name})
            if created:
                self.stdout.write(f"Role {code} created.")
        granted = set(
            RolePermission.objects.filter(role=roles["admin"]).values_list("feature_id", flat=True)
        )
        RolePermission.objects.bulk_create(
            [
                RolePermission(
                    role=roles["admin"],
                    feature=feature,
                    can_create=True,
                    can_retrieve=True,
                    can_update=True,
                    can_delete=True,
                    scope=PermissionScope.ALL,
                )
                for feature in Feature.objects.exclude(pk__in=granted)
            ]
        )
        return roles

    def _seed_admin(self) -> User:
        """The demo superuser, created once with a random password."""
        existing = User.objects.filter(email=DEMO_ADMIN_EMAIL).first()
        if existing is not None:
            self.stdout.write(f"Demo admin {DEMO_ADMIN_EMAIL} already exists.")
            return existing
        password = secrets.token_urlsafe(12)
        admin = User.objects.create_superuser(DEMO_ADMIN_EMAIL, password, name="Demo Admin")
        path = settings.BASE_DIR / CREDENTIALS_FILE
        path.write_text(f"{DEMO_ADMIN_EMAIL} {password}\n")
        path.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo admin created: {DEMO_ADMIN_EMAIL} / {password} "
                f"(also saved in {CREDENTIALS_FILE})"
            )
        )
        return admin
