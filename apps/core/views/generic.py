"""Base view classes every feature app builds on. Views answer only through these helpers."""

from typing import Any

from rest_framework import status as http_status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.envelope import build_envelope


class AppViewMixin:
    """The only way a view answers: `send_response` and `send_error_response`.

    Both wrap the payload in the envelope and set the HTTP status to the envelope's status.
    """

    def send_response(
        self,
        data: Any = None,
        *,
        status: int = http_status.HTTP_200_OK,
        message: str | None = None,
        pagination: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """A success envelope with `data` (and `meta.pagination` for lists)."""
        body = build_envelope(status=status, data=data, message=message, pagination=pagination)
        return Response(body, status=status, headers=headers)

    def send_error_response(
        self,
        errors: list[dict[str, Any]],
        *,
        status: int = http_status.HTTP_400_BAD_REQUEST,
        message: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """An error envelope; prefer raising a DRF exception, which the handler envelopes."""
        body = build_envelope(status=status, errors=errors, message=message)
        return Response(body, status=status, headers=headers)


class AppAPIView(AppViewMixin, APIView):
    """A plain endpoint on the core layer: envelope helpers plus DRF's APIView.

    Subclasses declare `permission_classes`, `throttle_classes` and the serializers they use.
    """
