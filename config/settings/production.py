"""Production: refuses to start without SECRET_KEY, ALLOWED_HOSTS and its encryption keys."""

from django.core.exceptions import ImproperlyConfigured

from apps.core.platform.logging import configure_logging

from .base import *  # noqa: F403
from .base import CACHE_ERROR_LOG_INTERVAL, LOG_JSON, SILENCED_SYSTEM_CHECKS, env

MIN_SECRET_KEY_LENGTH = 50

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
if (
    not SECRET_KEY
    or SECRET_KEY.startswith("django-insecure")
    or len(SECRET_KEY) < MIN_SECRET_KEY_LENGTH
):
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of 50+ characters.")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the host names this API serves.")
if EMAIL_BACKEND.endswith((".console.EmailBackend", ".locmem.EmailBackend")):
    raise ImproperlyConfigured(
        "EMAIL_BACKEND must deliver mail in production (e.g. the SMTP backend): the console "
        "backend would print password-reset links into the logs."
    )
PASSWORD_RESET_URL = env.str("PASSWORD_RESET_URL", default="")
if not PASSWORD_RESET_URL:
    raise ImproperlyConfigured("PASSWORD_RESET_URL must point at the frontend's reset page.")
if not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must hold at least one Fernet key.")
SIMPLE_JWT["SIGNING_KEY"] = env.str("JWT_SIGNING_KEY", default=SECRET_KEY)

# Behind a TLS-terminating proxy (see docker/nginx.conf).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
PAYMENT_WEBHOOK_SECRET = env.str("PAYMENT_WEBHOOK_SECRET", default="")
if len(PAYMENT_WEBHOOK_SECRET) < 32 or PAYMENT_WEBHOOK_SECRET.startswith("embedded-default"):  # noqa: PLR2004
    raise ImproperlyConfigured("PAYMENT_WEBHOOK_SECRET must be the provider's signing secret.")
if PAYMENT_PROVIDER == "fake" and not env.bool("PAYMENT_ALLOW_FAKE", default=False):
    raise ImproperlyConfigured(
        "PAYMENT_PROVIDER is 'fake', whose checkout page credits without payment; set a real "
        "provider (or PAYMENT_ALLOW_FAKE=true for a demo deployment)."
    )

# core.I013 names the read serializers that keep DRF's model path: a hint for developers
# (`make run`, `manage.py check` locally), not for a production deploy's output.
SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "core.I013"]

# Warnings and errors only, unless LOG_LEVEL says otherwise (a staging deployment sets INFO to
# keep the per-request access lines; nginx keeps its own access log either way).
LOG_LEVEL = env.str("LOG_LEVEL", default="WARNING")
configure_logging(level=LOG_LEVEL, json=LOG_JSON, cache_error_interval=CACHE_ERROR_LOG_INTERVAL)
