"""Settings of the full-stack benchmark's server: the test settings (DEBUG off) with the
peer endpoints mounted beside the project's own URLs and throttles that never refuse (every
endpoint still counts its requests)."""

from config.settings.test import *  # noqa: F403 - a settings module extends another
from config.settings.test import REST_FRAMEWORK

ROOT_URLCONF = "tests.bench.stack.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
UNREFUSED_RATE = "1000000000/min"
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": dict.fromkeys(
        REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], UNREFUSED_RATE
    ),
}
