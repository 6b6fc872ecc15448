"""`manage.py seed`: idempotent demo data for the embedded default."""

import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts.models import User

DEMO_ADMIN_EMAIL = "admin@example.com"
CREDENTIALS_FILE = ".demo-admin-password"


class Command(BaseCommand):
    """Creates the demo admin (password printed once and kept in a git-ignored file)."""

    help = "Seed demo data. Safe to run again: existing rows are left as they are."

    def handle(self, *args: Any, **options: Any) -> None:
        """Create what is missing and report it."""
        with transaction.atomic():
            self._seed_admin()

    def _seed_admin(self) -> None:
        """The demo superuser, created once with a random password."""
        if User.objects.filter(email=DEMO_ADMIN_EMAIL).exists():
            self.stdout.write(f"Demo admin {DEMO_ADMIN_EMAIL} already exists.")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(DEMO_ADMIN_EMAIL, password, name="Demo Admin")
        path = settings.BASE_DIR / CREDENTIALS_FILE
        path.write_text(f"{DEMO_ADMIN_EMAIL} {password}\n")
        path.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo admin created: {DEMO_ADMIN_EMAIL} / {password} "
                f"(also saved in {CREDENTIALS_FILE})"
            )
        )
