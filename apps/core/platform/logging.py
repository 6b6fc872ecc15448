"""Structured logging: structlog renders every log line (ours and the stdlib's) as JSON.

Secrets never reach a log line: values under sensitive keys are replaced and `token`
query parameters are stripped from any string that carries a URL.
"""

import functools
import logging
import re
import sys
import time
from collections.abc import Callable, Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog
from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper

REDACTED = "[REDACTED]"
SENSITIVE_KEY = re.compile(
    r"pass(word)?|secret|token|authorization|cookie|api[-_]?key|access|refresh|signature",
    re.IGNORECASE,
)
_TOKEN_IN_QUERY = re.compile(
    r"(?P<key>(?:^|[?&])(?:token|access|refresh|access_token|refresh_token)=)[^&\s\"']*",
    re.IGNORECASE,
)
_BEARER = re.compile(r"Bearer\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


def redact_query_tokens(text: str) -> str:
    """`/ws/?token=abc&x=1` becomes `/ws/?token=[REDACTED]&x=1`; bearer tokens are masked."""
    if "=" not in text and "bearer" not in text.lower():
        return text  # neither pattern can match: skip both regex passes
    text = _TOKEN_IN_QUERY.sub(lambda m: m.group("key") + REDACTED, text)
    return _BEARER.sub("Bearer " + REDACTED, text)


# Celery logs task arguments as repr strings under these keys; a repr cannot be redacted
# field by field, so it is withheld (AppTask.on_failure logs them redacted).
ARGUMENT_REPR_KEYS = frozenset({"args", "kwargs"})


@functools.lru_cache(maxsize=1024)
def is_sensitive_key(key: str) -> bool:
    """Whether values under `key` are withheld (keys repeat on every line: asked once)."""
    return SENSITIVE_KEY.search(key) is not None


def redact(value: Any, key: str | None = None) -> Any:
    """A copy of `value` with secrets replaced, walking dicts and lists."""
    secret_key = key is not None and is_sensitive_key(key)
    if secret_key or (key in ARGUMENT_REPR_KEYS and isinstance(value, str)):
        return REDACTED
    if isinstance(value, Mapping):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_query_tokens(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact_query_tokens(str(value))


def request_processor(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> Any:
    """Replace a `request` object (Django's own error logs pass one) by its trace id.

    Its repr holds the full query string; the trace id links the line to the request even
    when Django logs it after the trace middleware has unbound the context.
    """
    request = event_dict.pop("request", None)
    trace_id = getattr(request, "trace_id", None)
    if trace_id and "trace_id" not in event_dict:
        event_dict["trace_id"] = trace_id
    return event_dict


def redact_processor(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> Any:
    """structlog processor: redact every field of the event before it is rendered."""
    return {
        key: redact(value, key if key != "event" else None) for key, value in event_dict.items()
    }


def _orjson_text(event: Any, **_options: Any) -> str:
    """A log line's JSON by orjson (compact; what it cannot write, as its `str`)."""
    return orjson.dumps(event, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


_SHARED_PROCESSORS: list[Callable[..., Any]] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.stdlib.ExtraAdder(),
]


# A LogRecord attribute: the record's message is already the rendered JSON line.
PRERENDERED = "prerendered_json"


class AppLogFormatter(structlog.stdlib.ProcessorFormatter):
    """structlog's ProcessorFormatter; a record rendered by `FastJSONLogger` is written as
    it is."""

    def format(self, record: logging.LogRecord) -> str:
        """The record's line."""
        if getattr(record, PRERENDERED, False):
            return str(record.msg)
        return super().format(record)


def build_formatter(*, json: bool = True) -> logging.Formatter:
    """The formatter every handler uses: shared processors, redaction, then the renderer."""
    renderer: Any = (
        structlog.processors.JSONRenderer(serializer=_orjson_text)
        if json
        else structlog.dev.ConsoleRenderer()
    )
    return AppLogFormatter(
        foreign_pre_chain=_SHARED_PROCESSORS,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            request_processor,
            redact_processor,
            renderer,
        ],
    )


def configure_logging(
    *, level: str = "INFO", json: bool = True, cache_error_interval: float = 60.0
) -> None:
    """Route stdlib and structlog logs through one JSON (or console) renderer on stdout."""
    _json_lines["enabled"] = json
    structlog.configure(
        processors=[
            *_SHARED_PROCESSORS,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(build_formatter(json=json))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # Django logs every 4xx/5xx itself; our access line already covers them.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    logging.getLogger("django.server").setLevel(logging.WARNING)
    logging.getLogger("daphne").setLevel(logging.WARNING)
    from apps.core.platform.cache import UNAVAILABLE_LOGGER, OncePerIntervalFilter

    unavailable = logging.getLogger(UNAVAILABLE_LOGGER)
    unavailable.filters = [OncePerIntervalFilter(cache_error_interval)]


# Fields of a fast line whose values cannot hold a secret (the rest go through `redact`).
_PLAIN_FIELDS = frozenset(
    {"status", "duration_ms", "user_id", "trace_id", "method", "event", "level", "logger"}
)
_LEVEL_NAMES = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warning"}
_json_lines = {"enabled": True}  # configure_logging(json=False) turns the fast path off


class FastJSONLogger:
    """structlog's fast path for a hot line (the access log): the JSON is rendered here by
    orjson from the request's context and the line's fields, with the same keys as the
    processor chain gives, and handed to the stdlib handlers already rendered.

    It skips what a line through the stdlib bridge pays for (structlog's bound logger and its
    processors, stdlib's caller lookup, the formatter's copy of every field and its redaction
    of each one): only fields that can hold a secret are redacted (`query`, `path` and any
    field not known to be plain). Levels, handlers and propagation stay stdlib's. With the
    console renderer (json=False) lines take the ordinary path.
    """

    def __init__(self, name: str) -> None:
        """A fast logger writing through the stdlib logger `name`."""
        self.name = name
        self.stdlib = logging.getLogger(name)
        self.slow = structlog.get_logger(name)

    def info(self, event: str, **fields: Any) -> None:
        """Log `event` at INFO."""
        self.log(logging.INFO, event, fields)

    def debug(self, event: str, **fields: Any) -> None:
        """Log `event` at DEBUG."""
        self.log(logging.DEBUG, event, fields)

    def log(self, level: int, event: str, fields: dict[str, Any]) -> None:
        """Render and hand the line to the handlers, when `level` is enabled."""
        if not self.stdlib.isEnabledFor(level):
            return
        if not _json_lines["enabled"]:
            self.slow.log(level, event, **fields)
            return
        line = {**fields, "event": event}
        for key, value in structlog.contextvars.get_contextvars().items():
            line.setdefault(key, value)  # as merge_contextvars: the line's own fields win
        for key, value in line.items():
            if key not in _PLAIN_FIELDS and value is not None:
                line[key] = redact(value, key)
        line["level"] = _LEVEL_NAMES.get(level) or logging.getLevelName(level).lower()
        line["logger"] = self.name
        line["timestamp"] = datetime.now(UTC).isoformat()[:-6] + "Z"
        record = logging.LogRecord(self.name, level, "", 0, _orjson_text(line), None, None)
        setattr(record, PRERENDERED, True)
        self.stdlib.handle(record)


_slow_log = structlog.get_logger("apps.db.slow_query")


def slow_query_wrapper(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    """Database execute wrapper: logs statements slower than settings.SLOW_QUERY_MS.

    Only the SQL text is logged, never its parameters (they may carry personal data).
    """
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        elapsed_ms = (time.perf_counter() - started) * 1000
        if elapsed_ms >= settings.SLOW_QUERY_MS:
            _slow_log.warning(
                "slow_query",
                duration_ms=round(elapsed_ms, 1),
                sql=sql[:2000],
                many=many,
                db_alias=context["connection"].alias,
            )


def install_slow_query_logger(
    sender: Any,  # noqa: ARG001 - Django sends it by keyword
    connection: BaseDatabaseWrapper,
    **kwargs: Any,
) -> None:
    """`connection_created` receiver: add the slow-query wrapper once per connection."""
    if slow_query_wrapper not in connection.execute_wrappers:
        connection.execute_wrappers.append(slow_query_wrapper)
