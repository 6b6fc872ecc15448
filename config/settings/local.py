"""Local development (`make run`): the embedded default with DEBUG on and readable logs."""

from apps.core.platform.logging import configure_logging

from .base import *  # noqa: F403
from .base import CACHE_ERROR_LOG_INTERVAL, LOCAL_FRONTEND_ORIGINS, LOG_LEVEL, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# A frontend's dev server may call the API from the browser (LOCAL_FRONTEND_ORIGINS);
# production takes its origins from CORS_ALLOWED_ORIGINS alone.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=LOCAL_FRONTEND_ORIGINS)

# Readable log lines on a developer's terminal; JSON stays the default everywhere else.
LOG_JSON = env.bool("LOG_JSON", default=False)
configure_logging(level=LOG_LEVEL, json=LOG_JSON, cache_error_interval=CACHE_ERROR_LOG_INTERVAL)
