"""gunicorn settings: uvicorn workers serving `config.asgi:application` (HTTP and WebSockets).

Run it as `gunicorn -c config/gunicorn.conf.py config.asgi:application`. Every knob comes from
the environment (the names below, all optional), so one file serves the container, `make
cluster` and a bare host:

- GUNICORN_BIND (127.0.0.1:8000): address(es), comma-separated (`unix:/run/app.sock` too);
  a container sets 0.0.0.0:8000.
- GUNICORN_WORKERS (CPU cores): worker processes; each is one event loop serving many
  requests and sockets at once.
- GUNICORN_THREADS (1): threads per worker of the `gthread` class only; uvicorn workers ignore
  it (Django's sync code runs in asgiref's executor, sized by ASGI_THREADS).
- GUNICORN_WORKER_CLASS (uvicorn_worker.UvicornWorker): the ASGI worker, HTTP + WebSockets.
- GUNICORN_TIMEOUT (30): seconds a silent worker may go before the master replaces it.
- GUNICORN_GRACEFUL_TIMEOUT (30): seconds a stopping worker gets to finish its requests
  (SIGTERM, a restart, max requests reached).
- GUNICORN_KEEPALIVE (75): seconds an idle keep-alive connection stays open; above the
  proxy's upstream keepalive_timeout (nginx: 60 s), so the proxy closes first.
- GUNICORN_MAX_REQUESTS (10000): requests after which a worker is replaced (0: never).
- GUNICORN_MAX_REQUESTS_JITTER (1000): random extra requests, so workers are not all
  replaced at once.
- GUNICORN_BACKLOG (2048): pending connections the listening socket holds.
- GUNICORN_FORWARDED_ALLOW_IPS (127.0.0.1,::1): proxies whose X-Forwarded-For and
  X-Forwarded-Proto are believed (`*` behind a proxy on a container network).
- GUNICORN_LOG_LEVEL (LOG_LEVEL, else info): level of gunicorn's and uvicorn's own lines.
- GUNICORN_ACCESS_LOG (off): `-` adds uvicorn's access line, as JSON on stdout (see below).
- GUNICORN_PIDFILE (none): where the master writes its pid.
- GUNICORN_WORKER_TMP_DIR (system): heartbeat files; /dev/shm in a container.
- GUNICORN_CONTROL_SOCKET (off): path of gunicorn's control socket; off by default, as its
  default path under $HOME would be shared by every gunicorn of the host.
- GUNICORN_SERVED_BY_HEADER (false): `X-Served-By: <worker pid>` on every answer and
  WebSocket handshake, for tests of a multi-worker setup (`make cluster`); never in
  production, where it would disclose process ids.

Logs: every line of gunicorn and uvicorn is one JSON object through the project's structlog
formatter (apps.core.platform.logging), with the process id in `pid`. The access log is the
app's own line (`apps.access`: method, path, status, duration, user, trace id), written once
per request by RequestTraceMiddleware; uvicorn's access line is off by default, as it would
repeat it with less. GUNICORN_ACCESS_LOG=- turns it on (one JSON line per request with the
client address and the pid, e.g. to see what the app never sees: requests refused by uvicorn).
"""

# ruff: noqa: N999 - gunicorn.conf.py is the name gunicorn looks for

import logging
import os
from typing import Any

DEFAULT_WORKER_CLASS = "uvicorn_worker.UvicornWorker"
ACCESS_EVENT = "http_access"
_ACCESS_ARGUMENTS = 5  # uvicorn's access record: client, method, path, HTTP version, status


def _env_int(name: str, default: int) -> int:
    """An integer from the environment; a malformed one stops the start with its name."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, not {raw!r}") from None


def _env_bool(name: str) -> bool:
    """A flag from the environment (1/true/yes/on)."""
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


# ---------------------------------------------------------------------------
# Server: sockets, processes, timeouts
# ---------------------------------------------------------------------------
bind = [
    address.strip()
    for address in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
    if address.strip()
]
backlog = _env_int("GUNICORN_BACKLOG", 2048)
workers = _env_int("GUNICORN_WORKERS", os.cpu_count() or 1)
threads = _env_int("GUNICORN_THREADS", 1)
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", DEFAULT_WORKER_CLASS)
timeout = _env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _env_int("GUNICORN_KEEPALIVE", 75)
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 10000)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 1000)
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
pidfile = os.environ.get("GUNICORN_PIDFILE") or None
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR") or None
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
# Each worker imports Django itself: a preloaded app would open the database pool and Redis
# connections in the master and share them across forks.
preload_app = False
proc_name = "enterprise-api"

# ---------------------------------------------------------------------------
# Logs: JSON through the project's structlog formatter
# ---------------------------------------------------------------------------
loglevel = (os.environ.get("GUNICORN_LOG_LEVEL") or os.environ.get("LOG_LEVEL") or "info").lower()
_access_log_on = bool(os.environ.get("GUNICORN_ACCESS_LOG", "").strip())
accesslog = None  # uvicorn's access lines go through the `gunicorn.access` logger below
errorlog = "-"


class ProcessIdFilter(logging.Filter):
    """Adds `pid` to every record (which worker wrote the line), and turns uvicorn's access
    record into fields: `client`, `method`, `path`, `http_version`, `status`."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Never drops a record; only adds fields (structlog's ExtraAdder emits them)."""
        record.pid = record.process
        record.__dict__.pop("color_message", None)  # uvicorn's copy of the line with colours
        args = record.args
        if (
            record.name == "uvicorn.access"
            and isinstance(args, tuple)
            and len(args) == _ACCESS_ARGUMENTS
        ):
            record.client, record.method, record.path, record.http_version, record.status = args
            record.msg, record.args = ACCESS_EVENT, ()
        return True


_JSON_HANDLER = {
    "class": "logging.StreamHandler",
    "formatter": "json",
    "filters": ["pid"],
    "stream": "ext://sys.stdout",
}
logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"pid": {"()": ProcessIdFilter}},
    "formatters": {
        "json": {"()": "apps.core.platform.logging.build_formatter", "json": True},
    },
    "handlers": {
        "json": _JSON_HANDLER,
        "off": {"class": "logging.NullHandler"},
    },
    "root": {"level": loglevel.upper(), "handlers": ["json"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": ["json"], "propagate": False},
        # The uvicorn worker hands these handlers and this level to `uvicorn.access`.
        "gunicorn.access": {
            "level": "INFO" if _access_log_on else "CRITICAL",
            "handlers": ["json" if _access_log_on else "off"],
            "propagate": False,
        },
    },
}


# ---------------------------------------------------------------------------
# Hooks
# ---------------------------------------------------------------------------
def post_worker_init(worker: Any) -> None:
    """With GUNICORN_SERVED_BY_HEADER, the worker's pid goes out as `X-Served-By` on every
    HTTP answer and WebSocket handshake (uvicorn's own default-headers option)."""
    if _env_bool("GUNICORN_SERVED_BY_HEADER"):
        config = getattr(worker, "config", None)
        if config is None:
            raise RuntimeError("GUNICORN_SERVED_BY_HEADER needs a uvicorn worker class")
        config.headers.append(("X-Served-By", str(os.getpid())))
