"""Every API exception of the core layer, with the codes DESIGN.md lists, and their messages.

The global handler (apps.core.http.handler) turns each into the error envelope.
"""

from rest_framework import exceptions, status

VERSION_CONFLICT_MESSAGE = "This record was modified by another user. Please refresh and try again."
CONFLICT_MESSAGE = "The request conflicts with the current state of the resource."
UNIQUE_MESSAGE = "A {model} with this {field} already exists."
PROTECTED_MESSAGE = "Cannot delete: other records still refer to it."
PURGE_PROTECTED_MESSAGE = "Cannot delete permanently: other records still refer to it."
KEY_REQUIRED_MESSAGE = (
    "This request needs an Idempotency-Key header (a unique value per operation)."
)
KEY_REUSED_MESSAGE = "This Idempotency-Key was already used with a different request body."
KEY_IN_PROGRESS_MESSAGE = (
    "A request with this Idempotency-Key is still being processed; retry later."
)


class TokenExpired(exceptions.AuthenticationFailed):
    """401 `token_expired`: the token was good but has expired; refresh it (or log in)."""

    default_detail = "Token has expired."
    default_code = "token_expired"


class TokenInvalid(exceptions.AuthenticationFailed):
    """401 `token_invalid`: not a token this API issued (malformed, bad signature, wrong
    type, its user gone); log in again."""

    default_detail = "Token is invalid."
    default_code = "token_invalid"


class TokenRevoked(exceptions.AuthenticationFailed):
    """401 `token_revoked`: the token was revoked (logout, password change, a rotated refresh
    token used again); log in again."""

    default_detail = "Token has been revoked."
    default_code = "token_revoked"


class Conflict(exceptions.APIException):
    """409: the write conflicts with existing data (a unique slot, a protected reference).

    `attr` names the field involved, when there is one.
    """

    status_code = status.HTTP_409_CONFLICT
    default_detail = CONFLICT_MESSAGE
    default_code = "conflict"

    def __init__(self, detail: str | None = None, code: str | None = None, attr: str | None = None):
        """DRF's APIException plus the field the conflict is about."""
        super().__init__(detail, code)
        self.attr = attr


class ServiceUnavailable(exceptions.APIException):
    """503: a dependency that guards security or money (the `guard` cache) is down."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "A required service is unavailable; retry shortly."
    default_code = "service_unavailable"


class DatabaseUnavailable(ServiceUnavailable):
    """503 with `Retry-After`: the database refused the connection or the query (down,
    restarting, out of connections); the client retries later, nothing was half-written."""

    default_detail = "The database is unavailable; retry shortly."
    wait = 5  # seconds, sent as Retry-After


class VersionConflict(exceptions.APIException):
    """409: the `version` sent is stale (optimistic locking); in a bulk update `attr` is the
    index of the row that conflicted. A missing `version` is a 400 `required` before this."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = VERSION_CONFLICT_MESSAGE
    default_code = "version_conflict"

    def __init__(self, detail: str | None = None, code: str | None = None, attr: str | None = None):
        """DRF's APIException plus the row the conflict is about."""
        super().__init__(detail, code)
        self.attr = attr


class PayloadTooLarge(exceptions.APIException):
    """413: the request body is larger than the server accepts."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class BadRequest(exceptions.APIException):
    """400 for requests Django flags as malformed or suspicious."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The request is malformed."
    default_code = "bad_request"


class IdempotencyKeyRequired(exceptions.APIException):
    """400: the method requires an Idempotency-Key."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = KEY_REQUIRED_MESSAGE
    default_code = "idempotency_key_required"


class IdempotencyKeyReused(exceptions.APIException):
    """422: same key, different body."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = KEY_REUSED_MESSAGE
    default_code = "idempotency_key_reused"


class IdempotencyKeyInProgress(exceptions.APIException):
    """409: the first request with this key has not finished."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = KEY_IN_PROGRESS_MESSAGE
    default_code = "idempotency_key_in_progress"


class FileTooLarge(exceptions.APIException):
    """413: the file passes the size limit."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The file is too large."
    default_code = "file_too_large"


class FileTypeNotAllowed(exceptions.APIException):
    """415: the file's content is not of an allowed type."""

    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    default_detail = "This file type is not allowed."
    default_code = "file_type_not_allowed"


class InsufficientStock(exceptions.APIException):
    """409: a line asks for more than is left; the detail names the SKU and what is left,
    `attr` the line (`items.<i>.quantity`)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "Not enough stock."
    default_code = "insufficient_stock"


class InvalidTransition(exceptions.APIException):
    """409: the status flow does not allow this change from the current status."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "This change is not allowed from the current status."
    default_code = "invalid_transition"


class InsufficientFunds(exceptions.APIException):
    """409: the wallet holds less than the movement needs (nothing was moved)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "Your wallet balance is too low for this payment."
    default_code = "insufficient_funds"


class LimitExceeded(exceptions.APIException):
    """409: a daily limit (amount or count) would be passed; the detail says which."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "This would exceed your daily limit."
    default_code = "limit_exceeded"


class AmountMismatch(exceptions.APIException):
    """409: a provider reports another amount or currency than the one asked for."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The amount does not match the top-up."
    default_code = "amount_mismatch"


class WebhookRejected(exceptions.APIException):
    """401: a webhook whose signature or timestamp does not check out (nothing applied)."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "The webhook signature is invalid."
    default_code = "invalid_signature"
