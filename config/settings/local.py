"""Local development (`make run`): the embedded default with DEBUG on and readable logs."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# A frontend's dev server (Next.js/CRA on 3000, Vite on 5173) may call the API from the
# browser; production takes its origins from CORS_ALLOWED_ORIGINS alone.
LOCAL_FRONTEND_ORIGINS = [
    f"http://{host}:{port}" for port in (3000, 5173) for host in ("localhost", "127.0.0.1")
]
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=LOCAL_FRONTEND_ORIGINS)
