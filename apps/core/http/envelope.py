"""The one JSON envelope every response under /api/ and /health/ is wrapped in.

Views answer with `AppResponse(data, message=..., pagination=...)` (through
`AppViewMixin.send_response`) or DRF's plain `Response`; the envelope itself is built once, at
render time, by `apps.core.http.renderers.EnvelopeJSONRenderer`. Code that stores an answer
(the response cache, idempotency records) stores `AnswerContent`, never an envelope, so the
trace id of the request that is answering is the one rendered.
"""

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from rest_framework.response import Response

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


def error_items(status: int, data: Any) -> list[dict[str, Any]]:
    """The `errors` of an error answer: its list of items as it is; anything else a view
    returned by hand (`{"detail": ...}`, a field dict, a string, nothing) as items too, so an
    error envelope never comes out empty."""
    if isinstance(data, list) and all(isinstance(item, dict) for item in data):
        return data
    if isinstance(data, dict) and "detail" in data:
        detail = data["detail"]
        return [error_item(str(getattr(detail, "code", None) or "error"), str(detail))]
    if isinstance(data, dict) and data:
        return [
            error_item(str(getattr(value, "code", None) or "invalid"), str(value), str(key))
            for key, values in data.items()
            for value in (values if isinstance(values, list) else [values])
        ]
    if data:
        return [error_item("error", str(data))]
    return [error_item("error", _default_error_message(status, None))]


class AppResponse(Response):
    """DRF's Response plus what the envelope carries besides `data`.

    `data` is the payload of a success, or the list of error items of an error (status 400
    and up); `message` and `pagination` go to the envelope's `message` and `meta.pagination`.
    `content_digest` is the answer's ETag digest when it is already known (a cached answer
    keeps it beside its content), so the ETag needs no hashing.
    """

    content_digest: str | None = None

    def __init__(
        self,
        data: Any = None,
        status: int | None = None,
        *,
        message: str | None = None,
        pagination: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """DRF's Response with the envelope's message and page information."""
        super().__init__(data, status=status, headers=headers)
        self.message = message
        self.pagination = pagination


@dataclass(frozen=True)
class AnswerContent:
    """What an answer holds apart from its trace id: what caches and replays store."""

    status: int
    data: Any
    message: str | None = None
    pagination: dict[str, Any] | None = None
    digest: str | None = None  # the ETag digest, where a cache stores it with the answer

    @classmethod
    def of(cls, response: Response) -> "AnswerContent":
        """The content of a response (plain DRF responses have no message or pagination)."""
        return cls(
            status=response.status_code,
            data=response.data,
            message=getattr(response, "message", None),
            pagination=getattr(response, "pagination", None),
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-storable dict (see `from_json`)."""
        stored = {
            "status": self.status,
            "data": self.data,
            "message": self.message,
            "pagination": self.pagination,
        }
        if self.digest is not None:
            stored["digest"] = self.digest
        return stored

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> "AnswerContent":
        """The content stored by `to_json`."""
        return cls(
            status=int(stored["status"]),
            data=stored.get("data"),
            message=stored.get("message"),
            pagination=stored.get("pagination"),
            digest=stored.get("digest"),
        )

    def response(self, headers: dict[str, str] | None = None) -> AppResponse:
        """A response that renders as the stored answer did (with today's trace id)."""
        response = AppResponse(
            self.data,
            status=self.status,
            message=self.message,
            pagination=self.pagination,
            headers=headers,
        )
        response.content_digest = self.digest
        return response


def envelope_of(response: Response, data: Any) -> dict[str, Any]:
    """The envelope of a response whose payload is `data` (errors at status 400 and up)."""
    status = response.status_code
    message = getattr(response, "message", None)
    if status >= FIRST_ERROR_STATUS:
        return build_envelope(status=status, errors=error_items(status, data), message=message)
    return build_envelope(
        status=status, data=data, message=message, pagination=getattr(response, "pagination", None)
    )
