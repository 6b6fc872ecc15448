"""`AppViewMixin`: how a view attaches a message or page information to its answer."""

from typing import Any

from rest_framework import status

from apps.core.http.envelope import AppResponse


class AppViewMixin:
    """`send_response` and `send_error_response`, the answers a view writes by hand.

    Both return an `AppResponse`; the renderer wraps it in the envelope. DRF's own
    `Response(data)` renders the same way with the default message.
    """

    def send_response(
        self,
        data: Any = None,
        *,
        status: int = status.HTTP_200_OK,
        message: str | None = None,
        pagination: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> AppResponse:
        """A success with `data` (and `meta.pagination` for lists)."""
        return AppResponse(
            data, status=status, message=message, pagination=pagination, headers=headers
        )

    def send_error_response(
        self,
        errors: list[dict[str, Any]],
        *,
        status: int = status.HTTP_400_BAD_REQUEST,
        message: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> AppResponse:
        """An error answer; prefer raising a DRF exception, which the handler answers."""
        return AppResponse(errors, status=status, message=message, headers=headers)
