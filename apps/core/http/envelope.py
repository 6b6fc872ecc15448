"""The one JSON envelope every response under /api/ and /health/ is wrapped in."""

from http import HTTPStatus
from typing import Any

from apps.core.platform.tracing import get_trace_id

DEFAULT_SUCCESS_MESSAGE = "Success"
VALIDATION_ERROR_MESSAGE = "Invalid input."
SERVER_ERROR_MESSAGE = "A server error occurred."
SERVER_ERROR_CODE = "server_error"
FIRST_ERROR_STATUS = 400


def error_item(code: str, detail: str, attr: str | None = None) -> dict[str, Any]:
    """One entry of `errors`: a machine code, a human detail, the dotted field or None."""
    return {"code": code, "detail": detail, "attr": attr}


def build_envelope(
    *,
    status: int,
    data: Any = None,
    message: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    pagination: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The envelope dict: `success` follows `status`; errors carry `data: null`."""
    success = status < FIRST_ERROR_STATUS
    if message is None:
        message = DEFAULT_SUCCESS_MESSAGE if success else _default_error_message(status, errors)
    return {
        "success": success,
        "status": status,
        "message": message,
        "data": data if success else None,
        "errors": None if success else (errors or []),
        "meta": {"trace_id": get_trace_id(), "pagination": pagination},
    }


def _default_error_message(status: int, errors: list[dict[str, Any]] | None) -> str:
    """A one-line message: the single error's detail, or the status phrase."""
    if errors and len(errors) == 1:
        return str(errors[0]["detail"])
    if status == FIRST_ERROR_STATUS:
        return VALIDATION_ERROR_MESSAGE
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
