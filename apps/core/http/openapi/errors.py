"""Which error answers an operation can really give, each with a real example.

`operation_errors(view, method, ...)` reads them from what the view is: its authenticators,
permissions, throttles, parsers, pagination, path parameters, versioned model, idempotency and
ETags; views add their business errors in `documented_errors = {"<action or method>":
(InsufficientStock, ...)}` (exception classes: their status, code and default detail).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny

from apps.core import exceptions as app_exceptions
from apps.core.http.permissions import is_public_action

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MIN_ERROR_STATUS = 400
UPDATE_ACTIONS = frozenset({"update", "partial_update", "bulk_update"})
VERSION_CONFLICT_DETAIL = "This record was modified by another user. Please refresh and try again."


@dataclass(frozen=True)
class ErrorCase:
    """One error an operation can answer: status, code, an example detail and field."""

    status: int
    code: str
    detail: str
    attr: str | None = None
    why: str = ""

    @classmethod
    def of(cls, error: type[exceptions.APIException], why: str = "") -> "ErrorCase":
        """The case an exception class raises."""
        code = error.default_code
        return cls(error.status_code, str(code), str(error.default_detail), why=why)


def operation_errors(
    view: Any,
    method: str,
    *,
    has_parameters: bool,
    path_parameters: bool,
    declared: Iterable[int] = (),
) -> list[ErrorCase]:
    """The error cases of `method` on `view` (its `action` set as in a request)."""
    action = getattr(view, "action", None) or method.lower()
    cases = [
        *_input_errors(view, method, has_parameters),
        *_access_errors(view, path_parameters),
        *_state_errors(view, method, action),
        *_limit_errors(view, method),
        *(ErrorCase.of(error) for error in _declared(view, action, method)),
    ]
    known = {case.status for case in cases}
    cases.extend(
        ErrorCase(status, "error", "See the message.", why="see the description")
        for status in declared
        if status not in known and status >= MIN_ERROR_STATUS
    )
    return _unique(cases)


def _input_errors(view: Any, method: str, has_parameters: bool) -> list[ErrorCase]:
    """400s: a malformed request anywhere; invalid input where there is some."""
    cases = [ErrorCase(400, "bad_request", "The request is malformed.", why="a malformed request")]
    if method in BODY_METHODS or has_parameters:
        cases.append(
            ErrorCase(400, "required", "This field is required.", "name", "the input is not valid")
        )
    if _idempotent(view, method):
        cases.append(
            ErrorCase.of(app_exceptions.IdempotencyKeyRequired, "no Idempotency-Key header")
        )
    return cases


def _access_errors(view: Any, path_parameters: bool) -> list[ErrorCase]:
    """401 with authenticators, 403 where a caller can be refused, 404 on objects and pages."""
    cases = []
    if view.get_authenticators():
        cases.append(
            ErrorCase(
                401,
                "token_expired",
                "The access token has expired: refresh it.",
                why="the token is missing, invalid (`token_invalid`), expired or revoked "
                "(`token_revoked`)",
            )
        )
    if _can_forbid(view):
        cases.append(
            ErrorCase.of(exceptions.PermissionDenied, "the caller's roles do not allow it")
        )
    if path_parameters or _page_numbers(view):
        why = "no such object, or not the caller's to see" if path_parameters else "no such page"
        cases.append(ErrorCase.of(exceptions.NotFound, why))
    return cases


def _state_errors(view: Any, method: str, action: str) -> list[ErrorCase]:
    """409s: unique values and references on writes, stale versions, keys in use; 422."""
    cases = []
    if method in WRITE_METHODS:
        cases.append(
            ErrorCase(
                409,
                "conflict",
                "A product with this slug already exists.",
                "slug",
                "a unique value is taken, or other rows still refer to this one",
            )
        )
    if action in UPDATE_ACTIONS and _versioned(view):
        cases.append(
            ErrorCase(
                409,
                "version_conflict",
                VERSION_CONFLICT_DETAIL,
                "version",
                "the `version` sent is not the current one",
            )
        )
    if _idempotent(view, method):
        cases.append(
            ErrorCase.of(app_exceptions.IdempotencyKeyInProgress, "same key, still running")
        )
        cases.append(ErrorCase.of(app_exceptions.IdempotencyKeyReused, "same key, another body"))
    return cases


def _limit_errors(view: Any, method: str) -> list[ErrorCase]:
    """413/415 on bodies, 429 where throttled, 503 anywhere (a dependency is down)."""
    cases = []
    if method in BODY_METHODS:
        cases.append(
            ErrorCase(
                413,
                "payload_too_large",
                f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
                why="the body is too large",
            )
        )
        cases.append(ErrorCase.of(exceptions.UnsupportedMediaType, "the body is not JSON"))
    if view.get_throttles():
        cases.append(
            ErrorCase(
                429,
                "throttled",
                "Request was throttled. Expected available in 30 seconds.",
                why="too many requests: wait for `Retry-After` seconds",
            )
        )
    cases.append(
        ErrorCase(
            503,
            "service_unavailable",
            "The service is temporarily unavailable. Please try again shortly.",
            why="the database or another dependency is down: retry later",
        )
    )
    return cases


def _unique(cases: list[ErrorCase]) -> list[ErrorCase]:
    """The cases without repeats of a (status, code), in order."""
    seen: set[tuple[int, str]] = set()
    unique = []
    for case in cases:
        if (case.status, case.code) not in seen:
            seen.add((case.status, case.code))
            unique.append(case)
    return unique


def _declared(view: Any, action: str, method: str) -> tuple[type[exceptions.APIException], ...]:
    """The business errors the view declares for this action (or HTTP method)."""
    declared: dict[str, tuple[type[exceptions.APIException], ...]] = getattr(
        view, "documented_errors", {}
    )
    return declared.get(action, ()) or declared.get(method.lower(), ())


def _idempotent(view: Any, method: str) -> bool:
    """Whether the operation runs once per Idempotency-Key (and requires one)."""
    requires = getattr(view, "requires_idempotency", None)
    return bool(requires and requires(method))


def _can_forbid(view: Any) -> bool:
    """Whether some authenticated caller can be refused (403)."""
    if is_public_action(view):
        return False
    return not all(isinstance(p, AllowAny) for p in view.get_permissions())


def _page_numbers(view: Any) -> bool:
    """Whether the operation is a page-number list (an unknown page is a 404)."""
    if getattr(view, "action", None) != "list":
        return False
    from apps.core.http.pagination import AppPageOrCursorPagination

    paginator = getattr(view, "paginator", None)
    return isinstance(paginator, PageNumberPagination | AppPageOrCursorPagination)


def _versioned(view: Any) -> bool:
    """Whether the view's model uses optimistic locking."""
    from apps.core.models import VersionedModel

    queryset = getattr(view, "queryset", None)
    model = getattr(queryset, "model", None)
    return isinstance(model, type) and issubclass(model, VersionedModel)


def envelope_example(case: ErrorCase) -> dict[str, Any]:
    """An error answer of `case`, as the server sends it."""
    return {
        "success": False,
        "status": case.status,
        "message": case.detail,
        "data": None,
        "errors": [{"code": case.code, "detail": case.detail, "attr": case.attr}],
        "meta": {"trace_id": "0f3c9a5e6b7d4c21a8e9f0b1c2d3e4f5", "pagination": None},
    }
