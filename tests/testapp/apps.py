"""App config of the test-only app (installed by config.settings.test)."""

from django.apps import AppConfig


class TestAppConfig(AppConfig):
    """Notes and tags: a versioned, owned, constrained model and a public one."""

    name = "tests.testapp"
    label = "testapp"
