"""App config of the core layer: connects its receivers, OpenAPI extensions and DB hooks."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The core layer as one Django app (label `core`), whatever package a module lives in."""

    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        """Receivers (audit, caches, RBAC), system checks, OpenAPI extensions, slow-query
        logger, the apps' WebSocket declarations, feature sync after `migrate`."""
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from apps.core import signals
        from apps.core.http import checks, openapi  # noqa: F401 - register checks and extensions
        from apps.core.platform.logging import install_slow_query_logger
        from apps.core.platform.ws.events import notification_modules_import

        connection_created.connect(install_slow_query_logger, dispatch_uid="core.slow_query")
        notification_modules_import()  # apps/<app>/notifications.py: WebSocket events, receivers
        post_migrate.connect(
            signals.sync_features_after_migrate, sender=self, dispatch_uid="core.features_sync"
        )
