"""The OpenAPI schema is valid, describes the envelope everywhere, and the docs load.

What a frontend's type generator needs is pinned here (issue 14: "the schema is the truth"):
OpenAPI 3.1 without `nullable`, every field a response always sends is `required`, each
operation's real error statuses with examples that validate against their own schema, a
summary and a frontend-facing description for every operation and tag, typed filters and
`ordering` values. That every answer of the suite matches the schema is checked for each
response by tests/openapi_contract.py.
"""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse, reverse_lazy
from openapi_schema_validator import OAS31Validator
from rest_framework.test import APIClient

from tests.api_cases import api_url

pytestmark = pytest.mark.django_db

SCHEMA = reverse_lazy("schema")


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        response = APIClient().get(SCHEMA, HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if not ref:
        return node
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_schema_validates_without_warnings(tmp_path) -> None:
    """The command raises on a warning or an invalid schema; it also wrote the schema."""
    target = tmp_path / "s.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert target.read_text().startswith("openapi:")


def test_schema_is_not_wrapped_in_the_envelope(schema: dict[str, Any]) -> None:
    assert schema["openapi"].startswith("3.")
    assert "success" not in schema


def test_every_operation_has_tags_and_enveloped_json_responses(schema: dict[str, Any]) -> None:
    envelope_keys = {"success", "status", "message", "data", "errors", "meta"}
    operations = 0
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            operations += 1
            assert operation.get("tags"), f"{method.upper()} {path} has no tag"
            for code, response in operation["responses"].items():
                if code == "304":
                    assert "content" not in response, f"{method.upper()} {path} 304 has a body"
                    continue
                content = response.get("content", {}).get("application/json")
                assert content, f"{method.upper()} {path} {code} has no JSON body"
                body = _resolve(schema, content["schema"])
                assert set(body["properties"]) == envelope_keys, (path, code)
    assert operations >= 10


def test_versioned_paths_are_under_api_v1(schema: dict[str, Any]) -> None:
    # Literal prefixes: the URL layout itself is what this test pins.
    api_paths = [p for p in schema["paths"] if p.startswith("/api/")]
    assert api_paths
    assert all(p.startswith("/api/v1/") for p in api_paths)


def test_protected_operations_declare_bearer_auth(schema: dict[str, Any]) -> None:
    me = schema["paths"][api_url("accounts:me")]["get"]
    assert me["security"] == [{"jwtAuth": []}]
    assert schema["components"]["securitySchemes"]["jwtAuth"]["scheme"] == "bearer"


def test_swagger_ui_is_served_with_local_assets(api_client: APIClient) -> None:
    response = api_client.get(reverse("docs"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn.jsdelivr" not in html


def test_login_and_refresh_document_their_401(schema: dict[str, Any]) -> None:
    for path in (api_url("accounts:login"), api_url("accounts:refresh")):
        assert "401" in schema["paths"][path]["post"]["responses"], path


def test_error_envelope_requires_every_key(schema: dict[str, Any]) -> None:
    error = schema["components"]["schemas"]["ErrorEnvelope"]
    assert set(error["required"]) == {"success", "status", "message", "data", "errors", "meta"}


def test_deletes_are_documented_as_200_envelopes_not_204(schema: dict[str, Any]) -> None:
    deletes = [item["delete"] for item in schema["paths"].values() if "delete" in item]
    assert deletes
    for operation in deletes:
        assert "204" not in operation["responses"]
        assert "200" in operation["responses"]


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation) of every operation."""
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def _walk(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object in the document, with its JSON path."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{where}/{index}")


def test_the_schema_is_openapi_3_1_without_nullable(schema: dict[str, Any]) -> None:
    assert schema["openapi"].startswith("3.1")
    nullable = [where for where, node in _walk(schema) if "nullable" in node]
    assert nullable == []


def test_every_operation_has_a_summary_and_a_description_for_frontends(
    schema: dict[str, Any],
) -> None:
    missing = [
        f"{method} {path}"
        for method, path, operation in _operations(schema)
        if not operation.get("summary") or not operation.get("description")
    ]
    assert missing == []
    for method, path, operation in _operations(schema):
        assert "\n" not in operation["summary"], f"{method} {path}: one line"
        assert "Access:" in operation["description"], f"{method} {path}: who may call"


def test_every_tag_is_described(schema: dict[str, Any]) -> None:
    described = {tag["name"] for tag in schema.get("tags", []) if tag.get("description")}
    used = {tag for _m, _p, operation in _operations(schema) for tag in operation["tags"]}
    assert used <= described, used - described


JS_SAFE_INTEGER = 2**53 - 1


def _numbers(value: Any) -> Iterator[int | float]:
    """Every number in a JSON value."""
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)


def test_every_example_validates_against_its_own_schema(schema: dict[str, Any]) -> None:
    checked = 0
    for method, path, operation in _operations(schema):
        for code, response in operation["responses"].items():
            for media in response.get("content", {}).values():
                root = {"allOf": [media["schema"]], "components": schema["components"]}
                validator = OAS31Validator(root)
                for name, example in media.get("examples", {}).items():
                    errors = list(validator.iter_errors(example["value"]))
                    assert errors == [], f"{method} {path} {code} example {name}: {errors[0]}"
                    unsafe = [n for n in _numbers(example["value"]) if abs(n) > JS_SAFE_INTEGER]
                    assert unsafe == [], f"{method} {path} {code} example {name}: {unsafe}"
                    checked += 1
    assert checked > 100


def test_no_get_documents_a_415_and_bodies_document_413_and_415(schema: dict[str, Any]) -> None:
    for method, path, operation in _operations(schema):
        codes = set(operation["responses"])
        if method == "GET":
            assert "415" not in codes, f"{method} {path}"
        if "requestBody" in operation:
            assert {"413", "415"} <= codes, f"{method} {path}"


def _example_codes(operation: dict[str, Any], status: str) -> set[str]:
    """The error codes the operation's examples show for `status`."""
    response = operation["responses"].get(status, {})
    examples = response.get("content", {}).get("application/json", {}).get("examples", {})
    return {example["value"]["errors"][0]["code"] for example in examples.values()}


def test_versioned_updates_document_the_version_conflict(schema: dict[str, Any]) -> None:
    path = api_url("catalog-product-detail", pk="{id}").replace("%7B", "{").replace("%7D", "}")
    for method in ("put", "patch"):
        assert "version_conflict" in _example_codes(schema["paths"][path][method], "409")
    collection = api_url("catalog-product-list")
    assert "version_conflict" in _example_codes(schema["paths"][collection]["patch"], "409")


def test_idempotent_operations_document_the_key_errors(schema: dict[str, Any]) -> None:
    orders = schema["paths"][api_url("orders-order-list")]["post"]
    assert "idempotency_key_required" in _example_codes(orders, "400")
    assert "idempotency_key_in_progress" in _example_codes(orders, "409")
    assert "idempotency_key_reused" in _example_codes(orders, "422")


def test_etag_reads_document_304_and_throttled_ones_429(schema: dict[str, Any]) -> None:
    products = schema["paths"][api_url("catalog-product-list")]["get"]
    assert "304" in products["responses"]
    assert "429" in products["responses"]


def test_writes_document_the_read_shape_they_answer_with(schema: dict[str, Any]) -> None:
    post = schema["paths"][api_url("catalog-product-list")]["post"]
    envelope = _resolve(schema, post["responses"]["201"]["content"]["application/json"]["schema"])
    one, many = envelope["properties"]["data"]["oneOf"]
    assert one == many["items"] == {"$ref": "#/components/schemas/ProductDetail"}
    detail = schema["components"]["schemas"]["ProductDetail"]
    assert {"id", "version", "created_at", "final_price"} <= set(detail["required"])
    body = post["requestBody"]["content"]["application/json"]["schema"]
    single, array = body["oneOf"]
    assert array["type"] == "array"
    assert array["items"] == single
    assert array["maxItems"] == settings.BULK_MAX_ITEMS


def test_response_components_require_every_field(schema: dict[str, Any]) -> None:
    for name, component in schema["components"]["schemas"].items():
        if name.endswith("Request") or "properties" not in component:
            continue
        assert set(component["required"]) == set(component["properties"]), name


def test_decimals_are_strings_with_a_pattern(schema: dict[str, Any]) -> None:
    decimals = [node for _w, node in _walk(schema) if node.get("format") == "decimal"]
    assert decimals
    for node in decimals:
        assert node["type"] in ("string", ["string", "null"]), node
        assert node.get("pattern"), node


def test_ordering_lists_its_values_and_filters_have_types(schema: dict[str, Any]) -> None:
    products = schema["paths"][api_url("catalog-product-list")]["get"]
    parameters = {parameter["name"]: parameter for parameter in products["parameters"]}
    ordering = parameters["ordering"]["schema"]
    assert ordering["type"] == "array"
    assert {"price", "-price"} <= set(ordering["items"]["enum"])
    untyped = [
        f"{method} {path} {parameter['name']}"
        for method, path, operation in _operations(schema)
        for parameter in operation.get("parameters", [])
        if not ({"type", "$ref"} & set(parameter.get("schema", {})))
    ]
    assert untyped == []


def test_public_operations_declare_that_anonymous_access_works(schema: dict[str, Any]) -> None:
    products = schema["paths"][api_url("catalog-product-list")]["get"]
    assert {} in products["security"]
    me = schema["paths"][api_url("accounts:me")]["get"]
    assert {} not in me["security"]


def test_the_schema_is_served_as_json_by_default(api_client: APIClient) -> None:
    response = api_client.get(SCHEMA)
    assert response.status_code == 200
    assert json.loads(response.content)["openapi"].startswith("3.1")
