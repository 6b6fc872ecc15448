"""The OpenAPI schema is valid, describes the envelope everywhere, and the docs load."""

from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse, reverse_lazy
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
