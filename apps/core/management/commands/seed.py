"""`manage.py seed`: idempotent demo data for the embedded default, gathered from every app.

The seed contract: an installed app may have a `seed` module (`<app>/seed.py`) with a public

    def seed(*, command: BaseCommand) -> None

that creates its demo data when missing and leaves existing rows as they are (a second run
changes nothing) and reports what it did on `command.stdout` (`command.style` for emphasis).
The command runs core's own step first (features synced from the views, the default roles, the
admin role granted every feature), then each app's `seed` in INSTALLED_APPS order, all in one
transaction: a failing app leaves nothing behind. A new app seeds itself without touching core.
"""

import importlib
import importlib.util
from collections.abc import Callable
from types import ModuleType
from typing import Any, cast

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.core.models.rbac import Role
from apps.core.rbac.services import features_sync, role_features_grant

SEED_MODULE = "seed"
SEED_FUNCTION = "seed"
NO_SEED_FUNCTION_MESSAGE = "{module} must define a public `seed(*, command)` function."
DEFAULT_ROLES = {
    "admin": "Administrator: every action on every feature",
    "manager": "Manager: runs the catalog and orders",
    "customer": "Customer: shops and manages their own data",
}
ADMIN_ROLE = "admin"


def seed_modules() -> list[ModuleType]:
    """Every installed app's `seed` module, in INSTALLED_APPS order."""
    modules = []
    for config in apps.get_app_configs():
        name = f"{config.name}.{SEED_MODULE}"
        if importlib.util.find_spec(name) is not None:
            modules.append(importlib.import_module(name))
    return modules


def seed_function(module: ModuleType) -> Callable[..., None]:
    """The module's `seed` function; a seed module without one is a configuration error."""
    function = getattr(module, SEED_FUNCTION, None)
    if not callable(function):
        raise CommandError(NO_SEED_FUNCTION_MESSAGE.format(module=module.__name__))
    return cast(Callable[..., None], function)


class Command(BaseCommand):
    """Core's features and default roles, then every app's own `seed` (see the module doc)."""

    help = "Seed demo data. Safe to run again: existing rows are left as they are."

    def handle(self, *args: Any, **options: Any) -> None:
        """Create what is missing and report it."""
        functions = [seed_function(module) for module in seed_modules()]
        with transaction.atomic():
            features_sync()
            self._seed_roles()
            for function in functions:
                function(command=self)

    def _seed_roles(self) -> None:
        """admin, manager, customer; the admin role gets every flag on every feature."""
        for code, name in DEFAULT_ROLES.items():
            role, created = Role.objects.get_or_create(code=code, defaults={"name": name})
            if created:
                self.stdout.write(f"Role {code} created.")
            if code == ADMIN_ROLE:
                role_features_grant(role=role, write=True)
