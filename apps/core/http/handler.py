"""The one global exception handler: every error becomes error items and a message.

Built on drf-standardized-errors, which flattens nested DRF errors into `{code, detail, attr}`
items with dotted `attr` (`items.0.quantity`); we only change the outer shape and the logging.
The envelope around them is built at render time (apps.core.http.renderers).
"""

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import structlog
from django.core import signals
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import IntegrityError, InterfaceError, OperationalError
from django.db.models import ProtectedError, RestrictedError
from drf_standardized_errors.formatter import ExceptionFormatter, flatten_errors
from drf_standardized_errors.handler import ExceptionHandler
from drf_standardized_errors.types import SERVER_ERROR, VALIDATION_ERROR, Error, ErrorResponse
from redis.exceptions import RedisError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings

from apps.core.exceptions import (
    PROTECTED_MESSAGE,
    BadRequest,
    Conflict,
    DatabaseUnavailable,
    PayloadTooLarge,
    ServiceUnavailable,
)
from apps.core.http.db_errors import integrity_error_to_api
from apps.core.http.envelope import (
    SERVER_ERROR_CODE,
    SERVER_ERROR_MESSAGE,
    VALIDATION_ERROR_MESSAGE,
    AppResponse,
    error_item,
)

SERVER_ERROR_STATUS = 500  # unexpected errors; other 5xx (503) keep their own code

logger = structlog.get_logger(__name__)


class EnvelopeExceptionFormatter(ExceptionFormatter):
    """Formats the flattened errors as the envelope's `errors` and `message`."""

    def get_errors(self) -> list[Error]:
        """The library's flattening, after turning integer keys into strings.

        DRF reports list-serializer errors as `{index: ...}`; the library tests `if attr:`,
        so index 0 would vanish from the path (`0.id` would become `id`).
        """
        return flatten_errors(_string_keys(self.exc.detail))

    def format_error_response(self, error_response: ErrorResponse) -> Any:
        """`{"errors": [...], "message": ...}` for this error; 5xx never exposes internals.

        The handler turns it into an AppResponse; the renderer builds the envelope.
        """
        message: str | None
        errors = [asdict(error) for error in error_response.errors]
        for error in errors:
            error["attr"] = _public_attr(error["attr"]) or getattr(self.exc, "attr", None)
        if error_response.type == SERVER_ERROR and self.exc.status_code == SERVER_ERROR_STATUS:
            errors = [error_item(SERVER_ERROR_CODE, SERVER_ERROR_MESSAGE)]
            message = SERVER_ERROR_MESSAGE
        elif error_response.type == VALIDATION_ERROR:
            message = VALIDATION_ERROR_MESSAGE
        else:
            message = errors[0]["detail"] if errors else None
        return {"errors": errors, "message": message}


def _string_keys(detail: Any) -> Any:
    """A copy of an error detail whose dict keys are all strings."""
    if isinstance(detail, dict):
        return {str(key): _string_keys(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_string_keys(item) for item in detail]
    return detail


def _public_attr(attr: str | None) -> str | None:
    """DRF's `non_field_errors` key becomes null at the top, the parent path when nested."""
    key = api_settings.NON_FIELD_ERRORS_KEY
    if attr is None or attr == key:
        return None
    suffix = f".{key}"
    return attr.removesuffix(suffix) if attr.endswith(suffix) else attr


# Exceptions of Django, the database and Redis that are not the server's fault, in the order
# they are tried, and the API error each becomes.
KNOWN_EXCEPTIONS: tuple[tuple[Any, Callable[[Any], Exception]], ...] = (
    (IntegrityError, integrity_error_to_api),
    (ProtectedError | RestrictedError, lambda _: Conflict(PROTECTED_MESSAGE)),
    (RedisError, lambda _: ServiceUnavailable()),  # the fail-closed `guard` cache is down
    (OperationalError | InterfaceError, lambda _: DatabaseUnavailable()),  # database down
    (RequestDataTooBig, lambda _: PayloadTooLarge()),
    (SuspiciousOperation, lambda _: BadRequest()),
)


class EnvelopeExceptionHandler(ExceptionHandler):
    """Converts Django's own request errors and logs every 5xx with the trace id."""

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        """Map exceptions that mean bad input (4xx) or an unavailable dependency (503) to
        their API errors instead of a 500."""
        for kind, convert in KNOWN_EXCEPTIONS:
            if isinstance(exc, kind):
                return convert(exc)
        return super().convert_known_exceptions(exc)

    def get_response(self, exc: exceptions.APIException, data: Any) -> Response:
        """The error items as the response's data, the message beside them."""
        return AppResponse(
            data["errors"],
            status=exc.status_code,
            message=data["message"],
            headers=self.get_headers(exc),
        )

    def report_exception(self, exc: exceptions.APIException, response: Response) -> None:
        """Log 5xx with its traceback (the trace id is bound) and tell Sentry via the signal."""
        if not status.is_server_error(exc.status_code):
            return
        request = getattr(self.context.get("request"), "_request", None)
        signals.got_request_exception.send(sender=None, request=request)
        logger.error("unhandled_exception", exc_info=self.exc, status=exc.status_code)
