"""The schema is the truth: every answer of the suite is checked against `/api/schema/`.

`tests/conftest.py` wraps the test client so that every response to a request under `/api/v…/`
whose path and method are an operation of the schema is checked here:

- its status code must be one the operation documents;
- a JSON body must validate against the documented schema of that status code (OpenAPI
  3.1: JSON Schema 2020-12, `$ref`s into the document's components);
- a body the operation documents as JSON must be JSON.

The document is the one the server serves (drf-spectacular's generator, rendered to JSON and
read back), built once per test process. A test that sends something on purpose that the
schema cannot describe (a route the URLconf has but the schema hides) never reaches an
operation, so it is not checked; there is no other way out.
"""

import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from openapi_schema_validator import OAS31Validator

API_PATH = re.compile(r"^/api/v\d+/")
JSON_TYPES = ("application/json",)
SKIPPED_METHODS = frozenset({"HEAD", "OPTIONS", "TRACE"})


class ContractError(AssertionError):
    """A response the schema does not describe."""


@dataclass
class Operation:
    """One documented operation: its path template and its responses by status code."""

    method: str
    template: str
    responses: dict[str, Any]
    validators: dict[tuple[str, str], OAS31Validator] = field(default_factory=dict)


@dataclass
class Contract:
    """The schema's operations, found by the concrete path and method of a request."""

    spec: dict[str, Any]
    routes: list[tuple[re.Pattern[str], str]]

    def operation(self, method: str, path: str) -> Operation | None:
        """The operation serving `method` on `path`, or None when the schema has none."""
        for pattern, template in self.routes:
            if pattern.match(path):
                item = self.spec["paths"][template]
                body = item.get(method.lower())
                if body is None:
                    return None
                return _operation(method.lower(), template)
        return None

    def check(self, method: str, path: str, status: int, content_type: str, body: bytes) -> None:
        """Raise ContractError when the answer is not what the schema documents."""
        if method.upper() in SKIPPED_METHODS or not API_PATH.match(path):
            return
        operation = self.operation(method, path)
        if operation is None:
            return
        label = f"{method.upper()} {operation.template} -> {status}"
        response = operation.responses.get(str(status)) or operation.responses.get("default")
        if response is None:
            documented = ", ".join(sorted(operation.responses))
            raise ContractError(f"{label}: status not documented (documented: {documented})")
        content = response.get("content") or {}
        media = content_type.split(";", 1)[0].strip()
        if not content:
            if body:
                raise ContractError(f"{label}: documented without a body, got {media}")
            return
        if media not in content:
            raise ContractError(
                f"{label}: {media or 'no content type'} is not one of {list(content)}"
            )
        schema = content[media].get("schema")
        if schema is None or media not in JSON_TYPES:
            return
        try:
            instance = json.loads(body)
        except ValueError as error:
            raise ContractError(f"{label}: the body is not JSON ({error})") from None
        validator = operation.validators.get((str(status), media))
        if validator is None:
            root = {"allOf": [schema], "components": self.spec.get("components", {})}
            validator = OAS31Validator(root)
            operation.validators[(str(status), media)] = validator
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        if errors:
            lines = [
                f"  at {'.'.join(map(str, e.absolute_path)) or '<body>'}: {e.message[:300]}"
                for e in errors[:5]
            ]
            raise ContractError(f"{label}: the body does not match the schema\n" + "\n".join(lines))


def _route_pattern(template: str) -> re.Pattern[str]:
    """A regex matching the concrete paths of a path template (`{id}` is one segment)."""
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
    return re.compile(f"^{regex}$")


@cache
def contract() -> Contract:
    """The served schema, as a frontend's generator reads it (built once per process)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    document = SchemaGenerator().get_schema(request=None, public=True)
    spec: dict[str, Any] = json.loads(OpenApiJsonRenderer().render(document, renderer_context={}))
    # Literal segments win over parameters (`/trash/models/` before `/trash/{model}/`).
    templates = sorted(spec["paths"], key=lambda t: (t.count("{"), -len(t)))
    return Contract(spec=spec, routes=[(_route_pattern(t), t) for t in templates])


@cache
def _operation(method: str, template: str) -> Operation:
    """The operation object of `method` on `template` (one per process)."""
    body = contract().spec["paths"][template][method]
    return Operation(method=method, template=template, responses=body.get("responses", {}))
