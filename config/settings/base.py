"""Settings shared by every mode.

The mode is chosen by environment variables alone (see `.env.example`): with none set, the
project runs on the embedded default (SQLite, local-memory cache, eager Celery, in-memory
channel layer, filesystem media). `DATABASE_URL`, `REDIS_URL`, `CELERY_BROKER_URL` and
`AWS_STORAGE_BUCKET_NAME` each switch one part to its production service.
"""

import base64
import hashlib
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from corsheaders.defaults import default_headers
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

from config.database_url import database_from_env
from config.local_secret import local_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.is_file():
    environ.Env.read_env(str(env_file))

# ---------------------------------------------------------------------------
# Core
# ---------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Without SECRET_KEY (the embedded default), a random key generated into the git-ignored file
# `.local-secret-key` on first use; production.py requires its own.
SECRET_KEY = env.str("SECRET_KEY", default="") or local_secret_key(BASE_DIR / ".local-secret-key")
# The key every install shared before keys were generated per checkout: it still decrypts
# fields written under it (below), and signs nothing.
_FORMER_SHARED_KEY = "django-insecure-embedded-default-not-for-production"
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------------------
# Applications
# ---------------------------------------------------------------------------
DJANGO_APPS = [
    "daphne",  # first, so `runserver` serves ASGI (HTTP + WebSockets)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "corsheaders",
    "channels",
    "axes",
]
LOCAL_APPS = [
    "apps.core",
    "apps.accounts",
    "apps.catalog",
    "apps.orders",
    "apps.wallet",
    "apps.chat",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

# ---------------------------------------------------------------------------
# Middleware
# ---------------------------------------------------------------------------
MIDDLEWARE = [
    "apps.core.http.middleware.RequestTraceMiddleware",
    "apps.core.http.middleware.JSONErrorPagesMiddleware",
    "apps.core.http.middleware.NullByteGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# ---------------------------------------------------------------------------
# Database: SQLite file by default, PostgreSQL (psycopg 3) with DATABASE_URL
# ---------------------------------------------------------------------------
DATABASES = {
    "default": database_from_env(env, default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Same backend, reading SQLite's real parameter limit (see the module docstring).
    DATABASES["default"]["ENGINE"] = "apps.core.db.backends.sqlite3"
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
USING_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# PostgreSQL connections come from psycopg's pool (one per process, shared by its threads):
# a request borrows one and gives it back, so a process never holds more than
# DB_POOL_MAX_SIZE. Persistent connections (DB_CONN_MAX_AGE) are the alternative: they hold
# one connection per thread for their whole age and overran max_connections under load.
DB_POOL = USING_POSTGRES and env.bool("DB_POOL", default=True)
if DB_POOL:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django's pool refuses persistent connections
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=10),
        # How long a request waits for a free connection, or for PostgreSQL to come back,
        # before it answers 503.
        "timeout": env.float("DB_POOL_TIMEOUT", default=2.0),
    }

# ---------------------------------------------------------------------------
# Cache: local memory by default, Redis via django-redis with REDIS_URL
# ---------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# Two aliases: `default` caches responses and computed values and fails open (Redis down
# means uncached, not broken); `guard` holds what protects security and money (throttle
# counters, idempotency locks) and fails closed: an error there refuses the request (503).
_CACHE_PREFIX = env.str("CACHE_KEY_PREFIX", default="app")
if REDIS_URL:
    # Short timeouts: Redis answers in well under a millisecond; a hung one must not make
    # every request wait (the `default` cache then misses, see apps.core.platform.cache).
    _REDIS_OPTIONS = {
        "CLIENT_CLASS": "django_redis.client.DefaultClient",
        # Calls fail at once for REDIS_BREAKER_SECONDS after a failure (a hung Redis).
        "REDIS_CLIENT_CLASS": "apps.core.platform.redis_breaker.BreakerRedis",
        # No retries inside redis-py (its default retries a timeout three times with
        # backoff, about 18 s): one timeout, then the breaker.
        "CONNECTION_POOL_KWARGS": {"retry": Retry(NoBackoff(), 0)},
        "SOCKET_CONNECT_TIMEOUT": env.float("REDIS_SOCKET_TIMEOUT", default=0.25),
        "SOCKET_TIMEOUT": env.float("REDIS_SOCKET_TIMEOUT", default=0.25),
    }
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {**_REDIS_OPTIONS, "IGNORE_EXCEPTIONS": True},
            "KEY_PREFIX": _CACHE_PREFIX,
        },
        "guard": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {**_REDIS_OPTIONS, "IGNORE_EXCEPTIONS": False},
            "KEY_PREFIX": f"{_CACHE_PREFIX}:guard",
        },
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "app-default",
        },
        "guard": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "app-guard",
        },
    }

# ---------------------------------------------------------------------------
# Channels: in-memory layer by default, channels-redis with REDIS_URL
# ---------------------------------------------------------------------------
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # `capacity`: messages one channel (a server process's sockets together) may have
            # waiting before channels-redis drops new ones silently; the default 100 is
            # reached by one busy 100-member room (docs/performance.md, "Chat fan-out").
            "CONFIG": {
                # A pooled connection Redis closed (a Redis restart, an idle timeout) is found
                # by a PING before reuse and replaced: one reconnect on a connection error,
                # never a retry on a timeout (a group send is not idempotent). Without this,
                # the first socket per process after a Redis restart failed with a 500.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "health_check_interval": env.int(
                            "CHANNELS_HEALTH_CHECK_SECONDS", default=10
                        ),
                        "retry": AsyncRetry(
                            ExponentialBackoff(cap=0.2, base=0.02),
                            1,
                            supported_errors=(RedisConnectionError,),
                        ),
                    }
                ],
                "capacity": env.int("CHANNELS_CAPACITY", default=1000),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# ---------------------------------------------------------------------------
# Celery: eager (inline) by default, a real broker with CELERY_BROKER_URL
# ---------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="memory://")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or "cache+memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool(
    "CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL.startswith("memory://")
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# After the broker refuses a message, requests stop publishing for this long (the messages
# wait in the outbox for the beat flush): a broker outage costs no request time.
OUTBOX_PAUSE_SECONDS = env.float("OUTBOX_PAUSE_SECONDS", default=10.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "core.outbox_flush": {"task": "core.outbox_flush", "schedule": 60.0},
    "core.idempotency_purge": {"task": "core.idempotency_purge", "schedule": 3600.0},
    "core.revoked_tokens_purge": {"task": "core.revoked_tokens_purge", "schedule": 3600.0},
    "accounts.tokens_expired_purge": {
        "task": "accounts.tokens_expired_purge",
        "schedule": 24 * 3600.0,
    },
    "core.uploads_abandoned_purge": {"task": "core.uploads_abandoned_purge", "schedule": 3600.0},
    "core.outbox_purge": {"task": "core.outbox_purge", "schedule": 24 * 3600.0},
    "orders.orders_cancel_unpaid": {"task": "orders.orders_cancel_unpaid", "schedule": 60.0},
    "orders.order_exports_purge": {"task": "orders.order_exports_purge", "schedule": 3600.0},
    "wallet.top_ups_expire": {"task": "wallet.top_ups_expire", "schedule": 3600.0},
    "wallet.top_ups_recheck": {"task": "wallet.top_ups_recheck", "schedule": 300.0},
    "wallet.ledger_check": {"task": "wallet.ledger_check", "schedule": 24 * 3600.0},
}
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"

# ---------------------------------------------------------------------------
# Files: filesystem by default, S3 via django-storages with AWS_STORAGE_BUCKET_NAME
# ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="us-east-1")
    AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
    AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="") or None
    AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="") or None
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True
    # Pre-signed URLs (uploads, export downloads) signed with SigV4, which every region takes.
    AWS_S3_SIGNATURE_VERSION = env.str("AWS_S3_SIGNATURE_VERSION", default="s3v4")
    AWS_S3_FILE_OVERWRITE = False
    STORAGES["default"] = {"BACKEND": "apps.core.uploads.storage.MediaS3Storage"}

# ---------------------------------------------------------------------------
# Authentication and passwords
# ---------------------------------------------------------------------------
# django-axes first: it refuses a locked-out account or address before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "apps.accounts.backends.EmailBackend",
]
# Login brute-force protection (apps.accounts.login_guard): per account and per address,
# counted in the database, shared by the admin login and POST /api/v1/auth/login/.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A success forgets that account's failures only (apps.accounts.login_guard), not the
# address's: axes' own reset would let any account clear an attack from the same address.
AXES_RESET_ON_SUCCESS = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_USERNAME_CALLABLE = "apps.accounts.login_guard.login_username"
AXES_CLIENT_IP_CALLABLE = "apps.accounts.login_guard.login_client_ip"
AXES_LOCKOUT_CALLABLE = "apps.accounts.login_guard.lockout_response"
AXES_VERBOSE = False
# Email uniqueness is a UniqueConstraint conditional on not deleted (soft delete frees the
# email), which Django's check cannot see; the backend above looks users up by email.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)
# Link the reset email points at; the frontend reads uid and token and calls .../confirm/.
PASSWORD_RESET_URL = env.str(
    "PASSWORD_RESET_URL", default="http://localhost:3000/reset-password?uid={uid}&token={token}"
)


def _derived_fernet_key(secret: str) -> str:
    """A Fernet key derived from SECRET_KEY, for the embedded default only."""
    return base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()).decode()


# Personal data (the phone) is encrypted at rest with these Fernet keys; the first encrypts,
# all decrypt, so keys can be rotated by prepending a new one.
FIELD_ENCRYPTION_KEYS: list[str] = env.list(
    "FIELD_ENCRYPTION_KEYS",
    default=[_derived_fernet_key(SECRET_KEY), _derived_fernet_key(_FORMER_SHARED_KEY)],
)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "ALGORITHM": "HS256",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

# ---------------------------------------------------------------------------
# Django REST framework
# ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.core.http.authentication.TracedJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["apps.core.http.renderers.EnvelopeJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.http.parsers.StrictJSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "apps.core.http.filters.AppSearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "apps.core.http.pagination.AppPageNumberPagination",
    "PAGE_SIZE": env.int("API_PAGE_SIZE", default=20),
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.URLPathVersioning",
    "DEFAULT_VERSION": "v1",
    "ALLOWED_VERSIONS": ["v1"],
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.core.http.throttles.AtomicAnonRateThrottle",
        "apps.core.http.throttles.AtomicPublicReadRateThrottle",
        "apps.core.http.throttles.AtomicUserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="20/min"),
        # Anonymous reads of public catalog lists and details: an infinite-scroll page (two
        # pages a second) and a few such visitors behind one office address.
        "public_read": env.str("THROTTLE_PUBLIC_READ", default="600/min"),
        "user": env.str("THROTTLE_USER", default="100/min"),
        "login": env.str("THROTTLE_LOGIN", default="5/min"),
        "refresh": env.str("THROTTLE_REFRESH", default="30/min"),
        "register": env.str("THROTTLE_REGISTER", default="10/hour"),
        "password_reset": env.str("THROTTLE_PASSWORD_RESET", default="5/hour"),
        "payments": env.str("THROTTLE_PAYMENTS", default="30/min"),
        "webhooks": env.str("THROTTLE_WEBHOOKS", default="600/min"),
    },
    # How many reverse proxies in front of the app append to X-Forwarded-For. The client
    # address is taken that many hops from the right, so a forged header changes nothing.
    "NUM_PROXIES": env.int("TRUSTED_PROXY_COUNT", default=0),
    "DEFAULT_SCHEMA_CLASS": "apps.core.http.openapi.EnvelopeAutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # No metadata answers to OPTIONS (they would not be enveloped): 405 instead.
    # CORS preflights are answered by corsheaders before any view.
    "DEFAULT_METADATA_CLASS": None,
}

DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "apps.core.http.handler.EnvelopeExceptionHandler",
    "EXCEPTION_FORMATTER_CLASS": "apps.core.http.handler.EnvelopeExceptionFormatter",
    # Unhandled exceptions become an enveloped 500 in DEBUG too (the traceback is in the log).
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Enterprise API",
    "DESCRIPTION": (
        "Every JSON response is wrapped in one envelope: "
        "`{success, status, message, data, errors, meta: {trace_id, pagination}}`: "
        "`success` tells a success (`data`, `errors: null`) from an error (`data: null`, "
        "`errors: [{code, detail, attr}]`). Sign in with `POST /api/v1/auth/login/` and send "
        "`Authorization: Bearer <access>`. WebSockets (`/ws/notifications/`, "
        "`/ws/chat/{room_id}/`): every event, frame and close code is documented in "
        "`docs/websockets.md`, generated from code by `python manage.py websockets_doc`."
    ),
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.http.openapi.schema.drop_unused_components",
    ],
    # One operation per tag group in Swagger, each tag described for frontends.
    "TAGS": [
        {
            "name": "auth",
            "description": "Sign up, sign in (JWT pair), refresh, sign out, "
            "the signed-in user's profile and password.",
        },
        {
            "name": "catalog",
            "description": "Categories, products, tags and banners: public "
            "reads, writes for catalog editors.",
        },
        {
            "name": "orders",
            "description": "Placing, paying, cancelling and shipping orders; "
            "order exports (CSV/XLSX, as jobs to poll).",
        },
        {
            "name": "wallet",
            "description": "The user's wallet: balance, ledger, top-ups "
            "through the payment provider and transfers.",
        },
        {
            "name": "chat",
            "description": "Rooms, members and messages (live delivery over "
            "the WebSocket `/ws/chat/{room_id}/`).",
        },
        {
            "name": "uploads",
            "description": "File uploads: pre-signed uploads and direct image uploads.",
        },
        {"name": "rbac", "description": "Admin: features, roles and the roles of users."},
        {"name": "audit", "description": "Admin: the append-only log of who changed what."},
        {"name": "trash", "description": "Admin: soft-deleted rows, restore and purge."},
        {"name": "health", "description": "Liveness and readiness probes for orchestrators."},
    ],
    # Choice sets whose field names collide across apps (`kind`) get names of their own.
    "ENUM_NAME_OVERRIDES": {"ChatRoomKindEnum": "apps.chat.models.RoomKind"},
}

# ---------------------------------------------------------------------------
# Core layer
# ---------------------------------------------------------------------------
BULK_MAX_ITEMS = env.int("BULK_MAX_ITEMS", default=1000)
UPLOAD_URL_SECONDS = env.int("UPLOAD_URL_SECONDS", default=900)  # pre-signed upload lifetime
IDEMPOTENCY_TTL_SECONDS = env.int("IDEMPOTENCY_TTL_SECONDS", default=24 * 3600)
IDEMPOTENCY_LOCK_SECONDS = env.int("IDEMPOTENCY_LOCK_SECONDS", default=120)
RBAC_CACHE_SECONDS = env.int("RBAC_CACHE_SECONDS", default=300)
# The role a new account gets on registration (when a role with this code exists; "" for none).
REGISTRATION_DEFAULT_ROLE = env.str("REGISTRATION_DEFAULT_ROLE", default="customer")
# Seconds browsers and CDNs may keep an anonymous read of a public list or detail (its
# Cache-Control: public, max-age); answers that depend on the caller are private, no-cache.
PUBLIC_CACHE_MAX_AGE = env.int("PUBLIC_CACHE_MAX_AGE", default=30)
# django-redis reports the errors it swallows on the fail-open alias to this logger, which
# lets one line through per CACHE_ERROR_LOG_INTERVAL seconds.
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "apps.cache.unavailable"
CACHE_ERROR_LOG_INTERVAL = env.int("CACHE_ERROR_LOG_INTERVAL", default=60)

# ---------------------------------------------------------------------------
# Orders and money
# ---------------------------------------------------------------------------
WALLET_CURRENCY = env.str("WALLET_CURRENCY", default="USD")  # one currency per deployment
ORDER_PAYMENT_TIMEOUT_MINUTES = env.int("ORDER_PAYMENT_TIMEOUT_MINUTES", default=30)
# Order exports (apps/orders/exports.py): how long a download link lives, how long files are
# kept (beat removes older ones), rows read per database round trip, the task's hard limit.
EXPORT_URL_SECONDS = env.int("EXPORT_URL_SECONDS", default=900)
EXPORT_RETENTION_HOURS = env.int("EXPORT_RETENTION_HOURS", default=24)
EXPORT_CHUNK_SIZE = env.int("EXPORT_CHUNK_SIZE", default=2000)
EXPORT_TIME_LIMIT = env.int("EXPORT_TIME_LIMIT", default=1800)
# Order payment (apps/orders/services.py): the gateway that charges and refunds orders.
ORDER_PAYMENT_GATEWAY = env.str(
    "ORDER_PAYMENT_GATEWAY", default="apps.wallet.services.WalletOrderPayments"
)
# The wallet (apps/wallet): the app's public address (checkout pages and webhook URLs are
# built on it), the payment provider of new top-ups and the adapters by name, the webhook
# secret and how old a webhook may be, how long a top-up may wait, daily transfer limits.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
# Where `manage.py seed` writes the demo logins it creates (default: .demo-admin-password at the
# project root; a container, whose code is read-only, points it at a writable place).
DEMO_CREDENTIALS_FILE = env.str("DEMO_CREDENTIALS_FILE", default="")
PAYMENT_PROVIDER = env.str("PAYMENT_PROVIDER", default="fake")
PAYMENT_PROVIDERS = {"fake": "apps.wallet.providers.fake.FakeProvider"}
PAYMENT_WEBHOOK_SECRET = env.str(
    "PAYMENT_WEBHOOK_SECRET", default="embedded-default-webhook-secret-not-for-production"
)
PAYMENT_WEBHOOK_TOLERANCE_SECONDS = env.int("PAYMENT_WEBHOOK_TOLERANCE_SECONDS", default=300)
TOP_UP_EXPIRY_HOURS = env.int("TOP_UP_EXPIRY_HOURS", default=24)
TOP_UP_RECHECK_AFTER_SECONDS = env.int("TOP_UP_RECHECK_AFTER_SECONDS", default=120)
TOP_UP_MAX_AMOUNT = Decimal(env.str("TOP_UP_MAX_AMOUNT", default="10000.00"))
TRANSFER_DAILY_AMOUNT = Decimal(env.str("TRANSFER_DAILY_AMOUNT", default="2000.00"))
TRANSFER_DAILY_COUNT = env.int("TRANSFER_DAILY_COUNT", default=50)
WALLET_BALANCE_CACHE_SECONDS = env.int("WALLET_BALANCE_CACHE_SECONDS", default=300)

REDIS_BREAKER_SECONDS = env.float("REDIS_BREAKER_SECONDS", default=5.0)

# Throttle scopes that refuse requests (503) while their Redis counters are unreachable; the
# others count per process meanwhile (apps.core.http.throttles).
THROTTLE_FAIL_CLOSED_SCOPES: list[str] = env.list(
    "THROTTLE_FAIL_CLOSED_SCOPES", default=["login", "password_reset", "payments"]
)

# ---------------------------------------------------------------------------
# Chat (apps/chat): per-socket limits and the reconnect catch-up
# ---------------------------------------------------------------------------
CHAT_SOCKET_MESSAGES = env.int("CHAT_SOCKET_MESSAGES", default=10)
CHAT_SOCKET_WINDOW_SECONDS = env.float("CHAT_SOCKET_WINDOW_SECONDS", default=10.0)
CHAT_TYPING_INTERVAL_SECONDS = env.float("CHAT_TYPING_INTERVAL_SECONDS", default=2.0)
CHAT_CATCH_UP_MAX_MESSAGES = env.int("CHAT_CATCH_UP_MAX_MESSAGES", default=1000)

# ---------------------------------------------------------------------------
# CORS and security
# ---------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS: list[str] = env.list("CORS_ALLOWED_ORIGINS", default=[])
# A frontend's dev server (Next.js/CRA on 3000, Vite on 5173): the local settings' default.
LOCAL_FRONTEND_ORIGINS = [
    f"http://{host}:{port}" for port in (3000, 5173) for host in ("localhost", "127.0.0.1")
]
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = (*default_headers, "x-request-id", "idempotency-key", "if-none-match")
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After", "Idempotent-Replayed", "ETag"]
CORS_URLS_REGEX = r"^/(api|health)/.*$"
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# ---------------------------------------------------------------------------
# Email
# ---------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="no-reply@example.com")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)

# ---------------------------------------------------------------------------
# Observability: structlog JSON to stdout, slow queries, Sentry
# ---------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_JSON = env.bool("LOG_JSON", default=True)
SLOW_QUERY_MS = env.int("SLOW_QUERY_MS", default=200)
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="development")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
HEALTH_CHECK_TIMEOUT_SECONDS = env.float("HEALTH_CHECK_TIMEOUT_SECONDS", default=2.0)

LOGGING_CONFIG = None  # configure_logging() (apps.core.platform.logging) sets it up below

from apps.core.platform.logging import configure_logging  # noqa: E402

configure_logging(level=LOG_LEVEL, json=LOG_JSON, cache_error_interval=CACHE_ERROR_LOG_INTERVAL)

if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
        send_default_pii=False,
    )
