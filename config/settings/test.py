"""Test settings: the embedded default unless the environment names services.

`make test` runs with nothing set (in-memory SQLite, local-memory cache, eager Celery);
`make test-services` sets DATABASE_URL, REDIS_URL and CELERY_BROKER_URL and runs the same suite.
"""

from .base import *  # noqa: F403
from .base import BASE_DIR, DATABASES, env

DEBUG = False
INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed: tests only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / ".pytest_media"))
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_AUTOREFRESH = True  # no collectstatic in tests
# Celery stays eager inside the suite unless a test drives the real worker on purpose.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # In memory, one database per process: pytest-xdist workers never share a file.
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
