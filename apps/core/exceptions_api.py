"""API exceptions with the codes DESIGN.md lists; the global handler envelopes them."""

from rest_framework import exceptions, status

VERSION_CONFLICT_MESSAGE = "This record was modified by another user. Please refresh and try again."
CONFLICT_MESSAGE = "The request conflicts with the current state of the resource."


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


class VersionConflict(exceptions.APIException):
    """409: the `version` sent is stale or missing (optimistic locking)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = VERSION_CONFLICT_MESSAGE
    default_code = "version_conflict"
