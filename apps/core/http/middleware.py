"""Request middleware: the trace id and access log, and the guard against NUL bytes."""

import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote_to_bytes

import structlog
from django.http import HttpRequest, HttpResponse, JsonResponse

from apps.core.http.envelope import (
    SERVER_ERROR_CODE,
    SERVER_ERROR_MESSAGE,
    build_envelope,
    error_item,
)
from apps.core.platform.logging import FastJSONLogger, redact_query_tokens
from apps.core.platform.memo import request_memo_close, request_memo_open
from apps.core.platform.tracing import accept_trace_id, set_trace_id

access_logger = FastJSONLogger("apps.access")

TRACE_HEADER = "X-Request-ID"
ERROR_STATUS = 400
ENVELOPE_PREFIXES = ("/api/", "/health/")
UNWRAPPED_PREFIXES = ("/api/schema/", "/api/docs/")
ERROR_PAGES = {
    400: ("bad_request", "The request is malformed."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    413: ("payload_too_large", "The request body is too large."),
    500: (SERVER_ERROR_CODE, SERVER_ERROR_MESSAGE),
}
NULL_CHARACTERS_MESSAGE = "Null characters are not allowed."
_QUIET_PREFIXES = ("/health/", "/static/")


class RequestTraceMiddleware:
    """Gives each request a trace id, binds it to every log line, returns it, logs one line.

    A well-formed incoming `X-Request-ID` is kept so a trace spans services. The access
    line carries method, path (token query parameters redacted), status, duration and user.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        """Standard Django middleware constructor."""
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Bind the trace context, run the request, stamp the header, log the access line."""
        trace_id = accept_trace_id(request.headers.get(TRACE_HEADER))
        request.trace_id = trace_id  # type: ignore[attr-defined]
        set_trace_id(trace_id)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            trace_id=trace_id, method=request.method, path=request.path
        )
        request_memo_open()
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[TRACE_HEADER] = trace_id
            self._log_access(request, response, started)
            return response
        finally:
            structlog.contextvars.clear_contextvars()
            set_trace_id(None)
            request_memo_close()

    def _log_access(self, request: HttpRequest, response: HttpResponse, started: float) -> None:
        """One line per request; health probes and static files only at debug level."""
        user = getattr(request, "user", None)
        fields: dict[str, Any] = {
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "query": redact_query_tokens(request.META.get("QUERY_STRING", "")),
            "user_id": str(user.pk) if user is not None and user.is_authenticated else None,
        }
        if request.path.startswith(_QUIET_PREFIXES):
            access_logger.debug("request_finished", **fields)
        else:
            access_logger.info("request_finished", **fields)


class JSONErrorPagesMiddleware:
    """Any error page under /api/ and /health/ that is not JSON becomes the envelope.

    Covers what Django answers itself, outside DRF: unknown URLs (404), DisallowedHost and
    other suspicious requests (400), CSRF (403), and crashes (500), with DEBUG on or off. The
    body never carries the HTML page, a traceback or settings; the exception is in the log.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        """Standard Django middleware constructor."""
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Replace a non-JSON error response on an enveloped path."""
        response = self.get_response(request)
        if response.status_code < ERROR_STATUS or not wants_envelope(request.path):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        status = response.status_code
        code, detail = ERROR_PAGES.get(status, ("error", HTTPStatus(status).phrase + "."))
        replacement = JsonResponse(
            build_envelope(status=status, errors=[error_item(code, detail)]), status=status
        )
        for header in ("Retry-After", "Allow", "WWW-Authenticate"):
            if header in response:
                replacement[header] = response[header]
        return replacement


def wants_envelope(path: str) -> bool:
    """True for the paths whose every answer is the JSON envelope (not the schema or docs)."""
    return path.startswith(ENVELOPE_PREFIXES) and not path.startswith(UNWRAPPED_PREFIXES)


class NullByteGuardMiddleware:
    """Answers 400 in the envelope when the path or query string holds a NUL byte.

    A NUL would otherwise reach the database (PostgreSQL refuses it with a 500) or a file path.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        """Standard Django middleware constructor."""
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Refuse the request early when it carries a NUL byte."""
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or b"\x00" in unquote_to_bytes(query):
            body = build_envelope(
                status=400, errors=[error_item("invalid", NULL_CHARACTERS_MESSAGE)]
            )
            return JsonResponse(body, status=400)
        return self.get_response(request)
