"""App config for the core layer: wires the slow-query logger into every DB connection."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Registers the core layer's signal handlers once the app registry is ready."""

    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        """Slow-query logger, RBAC cache invalidation, feature sync after `migrate`."""
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from apps.core import signals
        from apps.core.http import openapi  # noqa: F401 - registers extensions and receivers
        from apps.core.platform.logging import install_slow_query_logger

        connection_created.connect(install_slow_query_logger, dispatch_uid="core.slow_query")
        post_migrate.connect(
            signals.sync_features_after_migrate, sender=self, dispatch_uid="core.features_sync"
        )
