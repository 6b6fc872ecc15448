"""Test settings: the embedded default unless the environment names services.

`make test` runs with nothing set (in-memory SQLite, local-memory cache, eager Celery);
`make test-services` sets DATABASE_URL, REDIS_URL and CELERY_BROKER_URL and runs the same suite.
"""

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .base import *  # noqa: F403
from .base import BASE_DIR, CACHES, CELERY_BROKER_URL, CHANNEL_LAYERS, DATABASES, REDIS_URL, env


def redis_database_shifted(url: str, shift: int) -> str:
    """`url` with its database number moved by `shift` (`redis://h:6379/15`, -2 → `/13`)."""
    parts = urlsplit(url)
    number = int(parts.path.strip("/") or 0) + shift
    if not 0 <= number <= 15:  # noqa: PLR2004 - Redis has databases 0 to 15 by default
        raise ValueError(f"{url} shifted by {shift} leaves Redis's databases 0-15")
    return urlunsplit(parts._replace(path=f"/{number}"))


DEBUG = False
INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed: tests only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / ".pytest_media"))
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_AUTOREFRESH = True  # no collectstatic in tests
# Celery stays eager inside the suite unless a test drives the real worker on purpose.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
# The suite's own connections are plain ones: pytest-django creates, flushes and drops test
# databases, which a pool's idle connections would hold open. Servers a test starts say
# DB_POOL=1 to run as production does.
if not env.bool("DB_POOL", default=False):
    DATABASES["default"].get("OPTIONS", {}).pop("pool", None)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # In memory, one database per process: pytest-xdist workers never share a file.
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}

# pytest-xdist: each worker (PYTEST_XDIST_WORKER=gw0, gw1, ...) gets its own Redis databases
# and media folder, since `cache.clear()` flushes a whole Redis database. Processes a test
# starts inherit the variable and so land on the same databases.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # set by pytest-xdist, not configuration
if _WORKER:
    _INDEX = int(_WORKER.removeprefix("gw"))
    MEDIA_ROOT = str(Path(MEDIA_ROOT) / _WORKER)
    if REDIS_URL:
        REDIS_URL = redis_database_shifted(REDIS_URL, -2 * _INDEX)
        for _alias in CACHES.values():
            _alias["LOCATION"] = REDIS_URL
        _LAYER_HOSTS: list[dict[str, Any]] = CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]  # type: ignore[index]
        _LAYER_HOSTS[0]["address"] = REDIS_URL
        CELERY_RESULT_BACKEND = REDIS_URL
    # Celery prefers CELERY_BROKER_URL from the environment over settings, so the workers may
    # share one broker database: a queue per worker keeps their messages apart.
    CELERY_TASK_DEFAULT_QUEUE = f"celery-{_WORKER}"
    if CELERY_BROKER_URL.startswith("redis://"):
        CELERY_BROKER_URL = redis_database_shifted(CELERY_BROKER_URL, -2 * _INDEX)
