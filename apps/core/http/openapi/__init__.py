"""OpenAPI: the schema frontends generate their types from, exact to what the server sends.

`EnvelopeAutoSchema` (schema.py) is DRF's DEFAULT_SCHEMA_CLASS; the envelope's components
(components.py), the error answers of each operation (errors.py) and the texts Swagger shows
(text.py) are its parts. Views document business errors with `documented_errors` and mark an
error response in `extend_schema(responses=...)` with `ErrorEnvelopeSerializer`.
"""

from apps.core.http.openapi.components import ErrorEnvelopeSerializer
from apps.core.http.openapi.schema import EnvelopeAutoSchema, TracedJWTScheme

__all__ = ["EnvelopeAutoSchema", "ErrorEnvelopeSerializer", "TracedJWTScheme"]
