"""The renderer that wraps every DRF answer in the envelope, once, when it is rendered."""

from collections.abc import Mapping
from typing import Any

from rest_framework import status
from rest_framework.renderers import JSONRenderer

from apps.core.http.envelope import envelope_of

BODILESS_STATUSES = frozenset({status.HTTP_204_NO_CONTENT, status.HTTP_304_NOT_MODIFIED})


class EnvelopeJSONRenderer(JSONRenderer):
    """DRF's JSON renderer whose output is the envelope around the response's data.

    Views, the exception handler, caches and replays deal in data; the envelope (and the
    trace id of the request answering) is added here. 204 and 304 stay bodiless.
    """

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        """The envelope as JSON bytes (plain JSON when rendered outside a response)."""
        response = (renderer_context or {}).get("response")
        if response is None:
            return super().render(data, accepted_media_type, renderer_context)
        if response.status_code in BODILESS_STATUSES:
            return b""
        return super().render(envelope_of(response, data), accepted_media_type, renderer_context)
