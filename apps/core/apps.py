"""App config for the core layer: wires the slow-query logger into every DB connection."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Registers the core layer's signal handlers once the app registry is ready."""

    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        """Attach the slow-query logger to each new database connection."""
        from django.db.backends.signals import connection_created

        from apps.core import openapi  # noqa: F401 - registers the OpenAPI auth extension
        from apps.core.logging import install_slow_query_logger

        connection_created.connect(install_slow_query_logger, dispatch_uid="core.slow_query")
