"""The renderer that wraps every DRF answer in the envelope, once, when it is rendered.

JSON is written by orjson, byte for byte what DRF's `JSONRenderer` writes (compact separators,
UTF-8, U+2028/U+2029 escaped, DRF's encoder for dates, decimals, lazy strings and the rest),
several times faster. Floats from serializer fields are `ReprFloat`s, written with Python's
`repr` as DRF writes them (apps.core.platform.floats). DRF's renderer writes the answer instead
when asked to indent (`Accept: application/json; indent=4`) and for a value orjson refuses (an
integer beyond 64 bits). tests/core/http/test_renderers.py checks the identity.
"""

import re
from collections.abc import Mapping
from typing import Any

import orjson
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

from apps.core.http.envelope import envelope_of
from apps.core.platform.floats import ReprFloat

BODILESS_STATUSES = frozenset({status.HTTP_204_NO_CONTENT, status.HTTP_304_NOT_MODIFIED})
# What orjson writes natively, the way DRF writes it; the rest goes through `_default`.
ORJSON_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME  # DRF writes UTC as `Z`, orjson as `+00:00`
    | orjson.OPT_PASSTHROUGH_DATACLASS  # DRF cannot write them: neither may we
    | orjson.OPT_NON_STR_KEYS  # DRF writes `{1: ...}` as `{"1": ...}`
)
LINE_SEPARATOR, PARAGRAPH_SEPARATOR = "\u2028".encode(), "\u2029".encode()
SEPARATORS = re.compile(b"\xe2\x80[\xa8\xa9]")  # one scan for both (a literal-led pattern)
_drf_encoder = JSONEncoder()


def _default(value: Any) -> Any:
    """A ReprFloat as Python writes it; anything else orjson leaves to us, as DRF's encoder
    makes it."""
    if isinstance(value, ReprFloat):
        return orjson.Fragment(float.__repr__(value))
    converted = _drf_encoder.default(value)
    if type(converted) is float:  # a Decimal, when decimals are not coerced to strings
        return orjson.Fragment(float.__repr__(converted))
    return converted


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
            return self.dumps(data, accepted_media_type, renderer_context)
        if response.status_code in BODILESS_STATUSES:
            return b""
        return self.dumps(envelope_of(response, data), accepted_media_type, renderer_context)

    def dumps(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        """`data` as DRF's JSONRenderer writes it, written by orjson where that is the same."""
        if data is None:
            return b""
        if self.get_indent(accepted_media_type or "", dict(renderer_context or {})) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            rendered = orjson.dumps(data, default=_default, option=ORJSON_OPTIONS)
        except (orjson.JSONEncodeError, TypeError, ValueError):
            return super().render(data, accepted_media_type, renderer_context)
        if SEPARATORS.search(rendered):
            rendered = rendered.replace(LINE_SEPARATOR, b"\\u2028")
            rendered = rendered.replace(PARAGRAPH_SEPARATOR, b"\\u2029")
        return rendered
