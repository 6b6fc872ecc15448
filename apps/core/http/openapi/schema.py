"""OpenAPI: the envelope described for every operation, so generated client types match.

Success responses are wrapped here (`<Name>Envelope` components); error responses use
`ErrorEnvelope` through drf-standardized-errors' ERROR_SCHEMAS setting.
"""

from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.plumbing import ResolvedComponent
from drf_standardized_errors.openapi import AutoSchema
from rest_framework import serializers

ERROR_CODE_CHOICES = [
    "required",
    "invalid",
    "not_authenticated",
    "authentication_failed",
    "permission_denied",
    "not_found",
    "method_not_allowed",
    "throttled",
    "parse_error",
    "unsupported_media_type",
    "conflict",
    "version_conflict",
    "idempotency_key_required",
    "idempotency_key_reused",
    "idempotency_key_in_progress",
    "insufficient_stock",
    "insufficient_funds",
    "invalid_transition",
    "file_too_large",
    "file_type_not_allowed",
    "payload_too_large",
    "bad_request",
    "server_error",
]

_JSON_MEDIA_TYPES = ("application/json",)


class ErrorItemSerializer(serializers.Serializer[Any]):
    """One error: a machine-readable code (the common ones are listed), detail and field."""

    code = serializers.CharField(help_text="e.g. " + ", ".join(ERROR_CODE_CHOICES))
    detail = serializers.CharField()
    attr = serializers.CharField(
        allow_null=True, help_text="Dotted field path (`items.0.quantity`), null if none."
    )


class PaginationSerializer(serializers.Serializer[Any]):
    """Page information of list responses (cursor pages carry only next/previous)."""

    count = serializers.IntegerField(required=False)
    page = serializers.IntegerField(required=False)
    page_size = serializers.IntegerField(required=False)
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


class MetaSerializer(serializers.Serializer[Any]):
    """Response metadata: the request's trace id and, on lists, pagination."""

    trace_id = serializers.CharField()
    pagination = PaginationSerializer(allow_null=True)


class ErrorEnvelopeSerializer(serializers.Serializer[Any]):
    """The envelope of every error response (`success` false, `data` null)."""

    success = serializers.BooleanField()
    status = serializers.IntegerField()
    message = serializers.CharField()
    # Field names shadow Serializer.data/.errors on the class only; DRF collects them as fields.
    data = serializers.JSONField(allow_null=True, help_text="Always null on errors.")  # type: ignore[assignment]
    errors = ErrorItemSerializer(many=True)  # type: ignore[assignment]
    meta = MetaSerializer()

    class Meta:
        ref_name = "ErrorEnvelope"


class EnvelopeAutoSchema(AutoSchema):
    """drf-standardized-errors' schema class, with every 2xx body wrapped in the envelope."""

    def _get_response_for_code(
        self,
        serializer: Any,
        status_code: str,
        media_types: Any = None,
        direction: str = "response",
    ) -> dict[str, Any]:
        """The response object as drf-spectacular builds it, the 2xx schema enveloped."""
        response: dict[str, Any] = super()._get_response_for_code(
            serializer, status_code, media_types, direction
        )
        if direction != "response" or not str(status_code).startswith("2"):
            return response
        for media_type, content in response.get("content", {}).items():
            if media_type in _JSON_MEDIA_TYPES and "schema" in content:
                content["schema"] = self._envelope(content["schema"])
        if "content" not in response:
            # Bodiless answers still carry the envelope, with data null.
            response["content"] = {"application/json": {"schema": self._envelope(None)}}
        return response

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        """No 204 anywhere: a bodiless answer is a 200 envelope with `data: null`."""
        responses: dict[str, Any] = super()._get_response_bodies(direction=direction)
        if direction == "response" and "204" in responses:
            responses.pop("204")
            responses["200"] = self._get_response_for_code(None, "200")
        return responses

    def get_operation_id(self) -> str:
        """drf-spectacular's id; PATCH of a collection is `..._bulk_update`, not a duplicate."""
        operation_id: str = super().get_operation_id()
        if getattr(self.view, "action", None) == "bulk_update":
            return operation_id.replace("partial_update", "bulk_update")
        return operation_id

    def _get_error_response_examples(self) -> list[Any]:
        """None: the library's examples show its own error shape, not our envelope."""
        return []

    def _envelope(self, data_schema: dict[str, Any] | None) -> dict[str, Any]:
        """A named `<Name>Envelope` component when the data is a component, else inline."""
        meta_ref = self.resolve_serializer(MetaSerializer, "response").ref
        error_ref = self.resolve_serializer(ErrorItemSerializer, "response").ref
        schema = {
            "type": "object",
            "required": ["success", "status", "message", "data", "errors", "meta"],
            "properties": {
                "success": {"type": "boolean"},
                "status": {"type": "integer"},
                "message": {"type": "string"},
                "data": data_schema if data_schema is not None else {"nullable": True},
                "errors": {"type": "array", "items": error_ref, "nullable": True},
                "meta": meta_ref,
            },
        }
        name = _component_name(data_schema)
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


def _component_name(schema: dict[str, Any] | None) -> str | None:
    """`Foo` for a `$ref` to Foo, `FooList` for an array of them, else None."""
    if not schema:
        return None
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    items = schema.get("items")
    if schema.get("type") == "array" and isinstance(items, dict) and "$ref" in items:
        return str(items["$ref"]).rsplit("/", 1)[-1] + "List"
    return None


class TracedJWTScheme(SimpleJWTScheme):
    """Documents TracedJWTAuthentication as simplejwt's bearer scheme."""

    target_class = "apps.core.http.authentication.TracedJWTAuthentication"
    name = "jwtAuth"
