"""The schema class: every operation documented as the server really answers it.

- Success answers are the envelope around the data the view really sends: writes of a model
  viewset answer with its `retrieve` serializer (not the write serializer); a bulk create
  takes and answers one object or an array; a bulk update takes and answers an array.
- Every field a response always carries is `required`; nullable fields are `type: [x, null]`
  (OpenAPI 3.1, so no `nullable` without a type).
- Error answers are the `ErrorEnvelope` with an example per error code, for the statuses the
  operation can really give (apps.core.http.openapi.errors); GETs with ETags document 304.
- Summaries and descriptions are written for frontends (apps.core.http.openapi.text), not
  taken from docstrings; public operations say that no token is needed (`security: [{}]`).
- `ordering` lists its values; filters without a type get one.
"""

import copy
from typing import Any

from django.conf import settings
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import CursorPagination, PageNumberPagination

from apps.core.http.openapi import components
from apps.core.http.openapi.errors import (
    ErrorCase,
    envelope_example,
    operation_errors,
)
from apps.core.http.openapi.text import facts, standard_intro, standard_summary
from apps.core.http.permissions import is_public_action

_JSON = "application/json"
BULK_CREATE_ACTION = "create"
BULK_UPDATE_ACTION = "bulk_update"
ERROR_DESCRIPTIONS = {
    400: "The input is not valid: `errors` name each field (`attr`).",
    401: "No valid token: refresh it on `token_expired`, sign in again otherwise.",
    403: "The caller may not do this.",
    404: "Not found (or not the caller's to see).",
    409: "Conflict with the current state: see the code.",
    413: "The request body is too large.",
    415: "The body is not in a supported format (send JSON).",
    422: "The Idempotency-Key was already used with another body.",
    429: "Too many requests: retry after `Retry-After` seconds.",
    503: "A dependency is unavailable: retry later.",
}


class EnvelopeAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, made to describe exactly what the server sends."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        """The operation, with its description completed and public access declared."""
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        self._register_components()
        lines = [operation.get("description") or "", *facts(self.view, self.method)]
        operation["description"] = "\n\n".join(line for line in lines if line)
        if self._public() and {} not in operation.get("security", []):
            operation.setdefault("security", []).append({})
        self._type_parameters(operation.get("parameters", []))
        return operation

    def get_summary(self) -> str | None:
        """The standard action's summary; others declare theirs with extend_schema."""
        return standard_summary(self.view)

    def get_description(self) -> str:  # type: ignore[override]
        """The standard action's opening sentence; never the view's internal docstring."""
        return standard_intro(self.view)

    def get_operation_id(self) -> str:
        """drf-spectacular's id; PATCH of a collection is `..._bulk_update`, not a duplicate."""
        operation_id: str = super().get_operation_id()
        if getattr(self.view, "action", None) == BULK_UPDATE_ACTION:
            return operation_id.replace("partial_update", "bulk_update")
        return operation_id

    def get_response_serializers(self) -> Any:
        """A model viewset's writes answer with its `retrieve` serializer."""
        from apps.core.http.mixins.serializers import (
            WRITE_ACTIONS,
            ResponseSerializerMixin,
            SerializerByActionMixin,
        )

        view: Any = self.view
        action = getattr(view, "action", None)
        answers_as_read = getattr(type(view), "get_response_serializer", None) in (
            SerializerByActionMixin.get_response_serializer,
            ResponseSerializerMixin.get_response_serializer,
        )
        if (
            isinstance(view, SerializerByActionMixin)
            and action in WRITE_ACTIONS
            and answers_as_read
        ):
            return view.get_serializer_class_for("retrieve")
        return super().get_response_serializers()

    # -- request bodies -------------------------------------------------------------------

    def _get_request_for_media_type(self, serializer: Any, direction: str = "request") -> Any:
        """A bulk create takes one object or an array; a bulk update an array with ids."""
        schema, required = super()._get_request_for_media_type(serializer, direction)
        action = getattr(self.view, "action", None)
        if schema is None or direction != "request":
            return schema, required
        if action == BULK_CREATE_ACTION and self._bulk_create():
            return {"oneOf": [schema, self._bulk_array(schema)]}, True
        if action == BULK_UPDATE_ACTION:
            # The item's own schema plus its `id` (inline: `allOf` could not add a property to
            # a closed object).
            item = copy.deepcopy(_component_schema(schema, self.registry) or schema)
            item["properties"] = {
                "id": {"type": "string", "format": "uuid"},
                **item.get("properties", {}),
            }
            item["required"] = ["id", *item.get("required", [])]
            return self._bulk_array(item), True
        return schema, required

    @staticmethod
    def _bulk_array(item: dict[str, Any]) -> dict[str, Any]:
        """An array of 1 to BULK_MAX_ITEMS `item`s."""
        return {"type": "array", "items": item, "minItems": 1, "maxItems": settings.BULK_MAX_ITEMS}

    # -- response bodies ------------------------------------------------------------------

    def _map_serializer(
        self, serializer: Any, direction: str, bypass_extensions: bool = False
    ) -> Any:
        """Response components: every field is always sent, so every field is required.
        Request components of serializers that refuse unknown keys are closed."""
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "response" and schema.get("properties"):
            schema["required"] = sorted(schema["properties"])
        if direction == "request" and getattr(serializer, "refuse_unknown_fields", False):
            schema["additionalProperties"] = False  # other keys are a 400 `unknown_field`
        return schema

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        """The success answers as spectacular finds them (no 204: a bodiless answer is a 200
        envelope with `data: null`), then the errors the operation can really give."""
        responses: dict[str, Any] = super()._get_response_bodies(direction=direction)
        if direction != "response":
            return responses
        if "204" in responses:
            responses.pop("204")
            responses["200"] = self._get_response_for_code(None, "200")
        declared = [int(code) for code in responses if not code.startswith("2")]
        for code in list(responses):
            if not code.startswith("2"):
                responses.pop(code)
        if self.method == "GET" and getattr(self.view, "etag", False):
            responses["304"] = {
                "description": "Not modified: the `If-None-Match` ETag is current (no body)."
            }
        cases = operation_errors(
            self.view,
            self.method,
            has_parameters=bool(self._query_parameters()),
            path_parameters="{" in self.path,
            declared=declared,
        )
        by_status: dict[int, list[ErrorCase]] = {}
        for case in cases:
            by_status.setdefault(case.status, []).append(case)
        for status in sorted(by_status):
            responses[str(status)] = self._error_response(status, by_status[status])
        return dict(sorted(responses.items()))

    def _error_response(self, status: int, cases: list[ErrorCase]) -> dict[str, Any]:
        """The ErrorEnvelope with one example per code."""
        reasons = "; ".join(f"`{case.code}`: {case.why}" for case in cases if case.why)
        description = ERROR_DESCRIPTIONS.get(status, "An error.")
        return {
            "description": f"{description} {reasons}".strip(),
            "content": {
                _JSON: {
                    "schema": components.ref(components.ERROR_ENVELOPE),
                    "examples": {
                        case.code: {
                            "summary": case.why or case.code,
                            "value": envelope_example(case),
                        }
                        for case in cases
                    },
                }
            },
        }

    def _get_response_for_code(
        self,
        serializer: Any,
        status_code: str,
        media_types: Any = None,
        direction: str = "response",
    ) -> dict[str, Any]:
        """The response object as drf-spectacular builds it, a 2xx wrapped in the envelope.

        Error responses are placeholders here: `_get_response_bodies` writes them all."""
        if direction == "response" and not str(status_code).startswith("2"):
            return {"description": ""}
        response: dict[str, Any] = super()._get_response_for_code(
            serializer, status_code, media_types, direction
        )
        if direction != "response" or not str(status_code).startswith("2"):
            return response
        content = response.setdefault("content", {})
        if not content:
            content[_JSON] = {"schema": None}
        for media_type, body in content.items():
            if media_type == _JSON:
                body["schema"] = self._envelope(body.get("schema"))
        if not response.get("description") or response["description"] == "No response body":
            response["description"] = "The envelope, `data` as documented."
        return response

    def _envelope(self, data: dict[str, Any] | None) -> dict[str, Any]:
        """The success envelope around `data`, a named component where the data has a name."""
        self._register_components()
        action = getattr(self.view, "action", None)
        meta = components.ref(components.META)
        name = _component_name(data)
        item = _array_item(data, self.registry)
        if data is None:
            data = {"type": "null"}
        elif item is not None and self._paged():
            meta = self._page_meta()
            data = {"type": "array", "items": item}
            name = f"{item['$ref'].rsplit('/', 1)[-1]}Page" if "$ref" in item else None
            if meta == components.ref(components.META):
                name = name and name.replace("Page", "List")
        elif action == BULK_CREATE_ACTION and self._bulk_create() and "$ref" in data:
            data = {"oneOf": [data, {"type": "array", "items": data}]}
            name = f"{name}OrList"
        elif item is not None:
            data = {"type": "array", "items": item}
        elif action == BULK_UPDATE_ACTION and "$ref" in data:
            data = {"type": "array", "items": data}
            name = f"{name}List"
        description = "A success answer (`success` true, `errors` null)."
        schema = components.success_envelope(data, meta, description)
        if name is None:
            return schema
        component = ResolvedComponent(
            name=f"{name}Envelope",
            type=ResolvedComponent.SCHEMA,
            schema=schema,
            object=f"{name}Envelope",
        )
        self.registry.register_on_missing(component)
        return component.ref

    def _paged(self) -> bool:
        """Whether the answer is a page: a viewset's `list`, or a paginated view's GET."""
        action = getattr(self.view, "action", None)
        if action is not None:
            return bool(action == "list")
        return self.method == "GET" and self._get_paginator() is not None

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        """spectacular's constraints; "a URL (or other format) or blank" becomes `anyOf`: ""
        matches both of its forms, which `oneOf` would refuse."""
        super()._insert_field_validators(field, schema)
        branches = schema.get("oneOf")
        if branches and any(branch.get("maxLength") == 0 for branch in branches):
            schema["anyOf"] = schema.pop("oneOf")

    def _page_meta(self) -> dict[str, Any]:
        """The `meta` of this list's pages: page-number, cursor, or either when the client
        chooses (AppPageOrCursorPagination's `?pagination=`)."""
        from apps.core.http.pagination import AppPageOrCursorPagination

        paginator = self._get_paginator()
        if isinstance(paginator, AppPageOrCursorPagination):
            pages, cursors = components.PAGE_META, components.CURSOR_PAGE_META
            return {"oneOf": [components.ref(pages), components.ref(cursors)]}
        if isinstance(paginator, CursorPagination):
            return components.ref(components.CURSOR_PAGE_META)
        if isinstance(paginator, PageNumberPagination):
            return components.ref(components.PAGE_META)
        return components.ref(components.META)

    # -- parameters and access ------------------------------------------------------------

    def _query_parameters(self) -> list[Any]:
        """The operation's query parameters (filters, pagination, declared ones)."""
        return [p for p in self._get_parameters() if p.get("in") == "query"]

    def _type_parameters(self, parameters: list[dict[str, Any]]) -> None:
        """`ordering` as the list of values the view accepts; untyped filters (and choice
        filters without a type) as strings."""
        for parameter in parameters:
            if parameter.get("in") != "query":
                continue
            if parameter.get("name") == "ordering":
                values = self._ordering_values()
                if values:
                    parameter["schema"] = {
                        "type": "array",
                        "items": {"type": "string", "enum": values},
                    }
                    parameter["style"] = "form"
                    parameter["explode"] = False
                    parameter["description"] = (
                        "Sort by these fields, comma-separated; `-` in front sorts descending."
                    )
            elif not parameter.get("schema"):
                parameter["schema"] = {"type": "string"}
            elif "enum" in parameter["schema"] and "type" not in parameter["schema"]:
                parameter["schema"]["type"] = "string"

    def _ordering_values(self) -> list[str]:
        """The `ordering` values the view accepts (each field, ascending and descending)."""
        backend = next(
            (b() for b in self.get_filter_backends() if issubclass(b, OrderingFilter)), None
        )
        if backend is None:
            return []
        view: Any = self.view
        fields = backend.get_valid_fields(view.get_queryset(), view, {"request": None})
        names = [name for name, _label in fields]
        return [value for name in names for value in (name, f"-{name}")]

    def _public(self) -> bool:
        """Whether anonymous callers may call the operation."""
        from rest_framework.permissions import AllowAny

        if is_public_action(self.view):
            return True
        return all(isinstance(p, AllowAny) for p in self.view.get_permissions())

    def _bulk_create(self) -> bool:
        """Whether POST on the view also takes an array."""
        from apps.core.http.mixins import BulkCreateModelMixin

        return isinstance(self.view, BulkCreateModelMixin)

    def _register_components(self) -> None:
        """The envelope's fixed components (once per document)."""
        for name, schema in components.COMPONENTS.items():
            self.registry.register_on_missing(
                ResolvedComponent(
                    name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name
                )
            )


def _component_name(schema: dict[str, Any] | None) -> str | None:
    """`Foo` for a `$ref` to Foo, else None."""
    if schema and "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    return None


def _component_schema(schema: dict[str, Any], registry: Any) -> dict[str, Any] | None:
    """The schema of the component `schema` refers to, or None."""
    name = _component_name(schema)
    for component in registry._components.values():
        if component.name == name and component.type == ResolvedComponent.SCHEMA:
            return dict(component.schema or {})
    return None


def _array_item(schema: dict[str, Any] | None, registry: Any) -> dict[str, Any] | None:
    """The item schema when `schema` is an array (inline, or a component holding one)."""
    if not schema:
        return None
    if schema.get("type") == "array":
        items = schema.get("items")
        return items if isinstance(items, dict) else None
    held = _component_schema(schema, registry) or {}
    if held.get("type") == "array" and isinstance(held.get("items"), dict):
        return dict(held["items"])
    return None


def drop_unused_components(result: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: remove schema components nothing refers to (e.g. the page arrays
    the envelope inlines), so generated clients carry no dead types."""
    schemas = result.get("components", {}).get("schemas", {})
    while True:
        text = _dump(result)
        unused = [name for name in schemas if f'"#/components/schemas/{name}"' not in text]
        if not unused:
            return result
        for name in unused:
            schemas.pop(name)


def _dump(document: dict[str, Any]) -> str:
    """The document as JSON text (to search for references)."""
    import json

    return json.dumps(document, default=str)


class TracedJWTScheme(SimpleJWTScheme):
    """Documents TracedJWTAuthentication as simplejwt's bearer scheme."""

    target_class = "apps.core.http.authentication.TracedJWTAuthentication"
    name = "jwtAuth"
