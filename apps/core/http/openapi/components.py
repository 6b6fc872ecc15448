"""The envelope's parts as OpenAPI 3.1 components, written once for every operation.

Success and error answers are two shapes a generated client can tell apart by `success`:
`{success: true, data: <the operation's data>, errors: null}` and
`{success: false, data: null, errors: [ErrorItem, ...]}`. `meta.pagination` is null outside
lists, page-number information on paged lists and next/previous links on cursor pages.
"""

from typing import Any

from rest_framework import serializers

# The component names frontends see (and generate types from).
ERROR_ITEM = "ErrorItem"
ERROR_ENVELOPE = "ErrorEnvelope"
META = "Meta"
PAGE_META = "PageMeta"
CURSOR_PAGE_META = "CursorPageMeta"
PAGE_NUMBER_PAGINATION = "PageNumberPagination"
CURSOR_PAGINATION = "CursorPagination"

_LINK = {"type": ["string", "null"], "format": "uri"}


def ref(name: str) -> dict[str, str]:
    """A `$ref` to the component `name`."""
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], description: str, closed: bool = False) -> dict[str, Any]:
    """An object whose every property is always sent (`closed`: and no other)."""
    schema: dict[str, Any] = {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": list(properties),
    }
    if closed:  # tells page-number and cursor pages apart (`oneOf` needs exactly one match)
        schema["additionalProperties"] = False
    return schema


def _meta(pagination: dict[str, Any], description: str) -> dict[str, Any]:
    """`meta`: the request's trace id and the given pagination."""
    trace = {"type": "string", "description": "The request's trace id (also in X-Request-ID)."}
    return _object({"trace_id": trace, "pagination": pagination}, description)


COMPONENTS: dict[str, dict[str, Any]] = {
    ERROR_ITEM: _object(
        {
            "code": {
                "type": "string",
                "description": "Machine-readable: `required`, `invalid`, `version_conflict`, …",
            },
            "detail": {"type": "string", "description": "For humans; may be shown as is."},
            "attr": {
                "type": ["string", "null"],
                "description": "The dotted field path (`items.0.quantity`, `3.price`), or null.",
            },
        },
        "One error of an answer.",
    ),
    PAGE_NUMBER_PAGINATION: _object(
        {
            "count": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "page_size": {"type": "integer", "minimum": 1},
            "next": _LINK,
            "previous": _LINK,
        },
        "Where a page-number page lies: `next`/`previous` are ready-to-use URLs or null.",
        closed=True,
    ),
    CURSOR_PAGINATION: _object(
        {"next": _LINK, "previous": _LINK},
        "Links of a cursor page (stable while rows are added): follow them as they are.",
        closed=True,
    ),
    META: _meta({"type": "null"}, "Metadata of a single answer (no pagination)."),
    PAGE_META: _meta(ref(PAGE_NUMBER_PAGINATION), "Metadata of a page-number page."),
    CURSOR_PAGE_META: _meta(ref(CURSOR_PAGINATION), "Metadata of a cursor page."),
}
COMPONENTS[ERROR_ENVELOPE] = _object(
    {
        "success": {"type": "boolean", "const": False},
        "status": {"type": "integer", "description": "The HTTP status, repeated."},
        "message": {"type": "string"},
        "data": {"type": "null"},
        "errors": {"type": "array", "items": ref(ERROR_ITEM), "minItems": 1},
        "meta": ref(META),
    },
    "Every error answer: `success` false, `data` null, one or more `errors`.",
)


def success_envelope(
    data: dict[str, Any], meta: dict[str, Any], description: str
) -> dict[str, Any]:
    """The schema of a success answer around `data` and `meta` (a schema)."""
    return _object(
        {
            "success": {"type": "boolean", "const": True},
            "status": {"type": "integer", "description": "The HTTP status, repeated."},
            "message": {"type": "string"},
            "data": data,
            "errors": {"type": "null"},
            "meta": meta,
        },
        description,
    )


class ErrorEnvelopeSerializer(serializers.Serializer[Any]):
    """Marks an error response in `extend_schema(responses=...)`: documented as the
    `ErrorEnvelope` component with examples of the operation's error codes."""

    class Meta:
        ref_name = ERROR_ENVELOPE
