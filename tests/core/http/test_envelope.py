"""Every JSON answer under /api/ and /health/ is the envelope, whatever went wrong."""

from typing import Any

import pytest
from django.urls import reverse, reverse_lazy
from rest_framework.response import Response
from rest_framework.test import APIClient

from apps.core.http.envelope import SERVER_ERROR_MESSAGE, envelope_of
from apps.core.http.parsers import NULL_CHARACTERS_MESSAGE
from tests.api_cases import API_VERSION
from tests.envelope import assert_envelope, assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.urls")]

V1 = {"version": API_VERSION}
PROBE = reverse_lazy("test-probe")
ME = reverse_lazy("accounts:me", kwargs=V1)
LOGIN = reverse_lazy("accounts:login", kwargs=V1)
READY = reverse_lazy("health-ready")
# Paths no route matches, kept literal on purpose: the 404 answers are what is tested.
UNKNOWN_API_PATH = "/api/v1/nowhere/"
UNKNOWN_HEALTH_PATH = "/health/nowhere/"
UNKNOWN_API_VERSION_PATH = "/api/v9/auth/me/"
NON_API_PATH = "/not-the-api/"


def test_success_is_enveloped_with_trace_id(api_client: APIClient) -> None:
    response = api_client.post(PROBE, {"note": "hi", "items": [{"quantity": 2}]}, format="json")
    body = assert_envelope(response, 201)
    assert body["data"] == {"note": "hi", "items": [{"quantity": 2}]}
    assert body["meta"]["pagination"] is None


def test_validation_errors_use_dotted_attr_for_nested_fields(api_client: APIClient) -> None:
    payload = {"note": "x" * 11, "items": [{"quantity": 1}, {"quantity": 0}, {}]}
    response = api_client.post(PROBE, payload, format="json")
    body = assert_error(response, 400, "min_value", "items.1.quantity")
    assert_error(response, 400, "required", "items.2.quantity")
    assert_error(response, 400, "max_length", "note")
    assert body["message"] == "Invalid input."


def test_empty_body_reports_each_required_field(api_client: APIClient) -> None:
    response = api_client.post(PROBE, {}, format="json")
    assert_error(response, 400, "required", "note")
    assert_error(response, 400, "required", "items")


def test_wrong_types_are_400_not_500(api_client: APIClient) -> None:
    response = api_client.post(PROBE, {"note": ["a"], "items": "nope"}, format="json")
    assert_error(response, 400, "invalid", "note")
    assert_error(response, 400, "not_a_list", "items")


def test_malformed_json_is_400_parse_error(api_client: APIClient) -> None:
    response = api_client.post(PROBE, b'{"note": ', content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_json_array_root_where_object_expected_is_400(api_client: APIClient) -> None:
    response = api_client.post(PROBE, b"[1, 2]", content_type="application/json")
    assert_error(response, 400, "invalid")


def test_deeply_nested_json_is_400_not_a_crash(api_client: APIClient) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    response = api_client.post(PROBE, body, content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_nul_character_in_json_body_is_400(api_client: APIClient) -> None:
    response = api_client.post(
        PROBE, b'{"note": "a\\u0000b", "items": []}', content_type="application/json"
    )
    body = assert_error(response, 400, "parse_error")
    assert body["errors"][0]["detail"] == NULL_CHARACTERS_MESSAGE


def test_nul_byte_in_query_string_is_400(api_client: APIClient) -> None:
    response = api_client.get(f"{ME}?search=a%00b")  # the raw %00 stays in the query
    assert_error(response, 400, "invalid")


def test_nul_byte_in_form_body_is_400(api_client: APIClient) -> None:
    response = api_client.post(PROBE, {"note": "a\x00b", "items": []}, format="multipart")
    assert response.status_code == 400
    assert_envelope(response, 400)


def test_unsupported_content_type_is_415(api_client: APIClient) -> None:
    response = api_client.post(PROBE, b"<note/>", content_type="application/xml")
    assert_error(response, 415, "unsupported_media_type")


def test_anonymous_on_protected_endpoint_is_401(api_client: APIClient) -> None:
    response = api_client.get(ME)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_garbage_bearer_token_is_401_in_one_clean_error(api_client: APIClient) -> None:
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    body = assert_envelope(api_client.get(ME), 401)
    assert len(body["errors"]) == 1
    assert body["errors"][0] == {
        "code": "token_invalid",
        "detail": "Access token is invalid.",
        "attr": None,
    }


def test_authenticated_without_permission_is_403(auth_client: APIClient) -> None:
    assert_error(auth_client.get(reverse("test-forbidden")), 403, "permission_denied")


def test_django_permission_denied_in_plain_view_is_enveloped(api_client: APIClient) -> None:
    assert_error(api_client.get(reverse("test-django-403")), 403, "permission_denied")


def test_suspicious_request_in_plain_view_is_enveloped_400(api_client: APIClient) -> None:
    assert_error(api_client.get(reverse("test-django-400")), 400, "bad_request")


def test_disallowed_host_is_enveloped_400(api_client: APIClient) -> None:
    response = api_client.get(ME, HTTP_HOST="evil.example.org")
    assert_error(response, 400, "bad_request")


def test_wrong_method_is_405(auth_client: APIClient) -> None:
    assert_error(auth_client.delete(ME), 405, "method_not_allowed")


def test_unknown_api_path_is_404_envelope_not_html(api_client: APIClient) -> None:
    assert_error(api_client.get(UNKNOWN_API_PATH), 404, "not_found")
    assert_error(api_client.get(UNKNOWN_HEALTH_PATH), 404, "not_found")


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options"])
def test_unknown_api_path_is_404_for_every_method_even_in_debug(
    api_client: APIClient, settings, method: str
) -> None:
    settings.DEBUG = True
    response = getattr(api_client, method)(UNKNOWN_API_PATH)
    assert_error(response, 404, "not_found")


def test_unknown_api_version_is_404(api_client: APIClient) -> None:
    assert_error(api_client.get(UNKNOWN_API_VERSION_PATH), 404, "not_found")


def test_django_http404_in_plain_view_is_enveloped(api_client: APIClient) -> None:
    assert_error(api_client.get(reverse("test-django-404")), 404, "not_found")


def test_unexpected_exception_is_500_without_internals(logs) -> None:
    response = APIClient(raise_request_exception=False).get(PROBE)
    body = assert_error(response, 500, "server_error")
    assert body["message"] == SERVER_ERROR_MESSAGE
    assert b"hunter2" not in response.content
    assert b"Traceback" not in response.content
    errors = [r for r in logs.records() if r["event"] == "unhandled_exception"]
    assert errors, "the 500 is logged"
    assert errors[0]["trace_id"] == response["X-Request-ID"]
    assert "RuntimeError" in errors[0]["exception"]


def test_crash_in_plain_django_view_is_enveloped_500(logs) -> None:
    client = APIClient(raise_request_exception=False)
    response = client.get(reverse("test-django-500"))
    body = assert_error(response, 500, "server_error")
    assert "secret" not in str(body)


def test_non_api_404_stays_html(api_client: APIClient) -> None:
    response = api_client.get(NON_API_PATH)
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


@pytest.mark.usefixtures("frozen_throttle_clock")
def test_throttled_is_429_with_retry_after(api_client: APIClient) -> None:
    payload = {"email": "nobody@example.com", "password": "wrong-password"}
    for _ in range(5):
        api_client.post(LOGIN, payload, format="json")
    response = api_client.post(LOGIN, payload, format="json")
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_options_is_an_enveloped_405_not_metadata(api_client: APIClient) -> None:
    assert_error(api_client.options(LOGIN), 405, "method_not_allowed")
    assert_error(api_client.options(READY), 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Bearer", "authentication_failed"),
        ("Bearer a b", "authentication_failed"),
        ("Bearer \x01", "token_invalid"),
    ],
)
def test_malformed_authorization_header_is_one_clean_401(
    api_client: APIClient, header: str, code: str
) -> None:
    """A header that is not `Bearer <token>` says so; a token that is not one is invalid."""
    api_client.credentials(HTTP_AUTHORIZATION=header)
    body = assert_envelope(api_client.get(ME), 401)
    assert len(body["errors"]) == 1
    assert body["errors"][0]["code"] == code
    assert body["errors"][0]["attr"] is None
    assert body["errors"][0]["detail"]


def test_django_error_pages_are_enveloped_with_debug_on(settings) -> None:
    settings.DEBUG = True
    client = APIClient(raise_request_exception=False)
    disallowed = client.get(ME, HTTP_HOST="evil.example.org")
    assert_error(disallowed, 400, "bad_request")
    assert b"<html" not in disallowed.content.lower()
    crash = client.get(reverse("test-django-500"))
    body = assert_error(crash, 500, "server_error")
    assert "secret" not in str(body)


def test_cors_preflight_allows_the_request_id_header(api_client: APIClient, settings) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    response = api_client.options(
        LOGIN,
        HTTP_ORIGIN="https://app.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type, x-request-id, idempotency-key",
    )
    assert response.status_code == 200
    allowed = response["Access-Control-Allow-Headers"].lower()
    assert "x-request-id" in allowed
    assert "idempotency-key" in allowed
    assert response["Access-Control-Allow-Origin"] == "https://app.example.com"


def test_cors_refuses_an_unlisted_origin(api_client: APIClient, settings) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    response = api_client.get(reverse("health-live"), HTTP_ORIGIN="https://evil.example.org")
    assert "Access-Control-Allow-Origin" not in response


def test_a_body_over_the_configured_size_is_an_enveloped_413(
    api_client: APIClient, settings
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    payload = {"note": "x", "items": [{"quantity": 1}] * 50}
    assert_error(api_client.post(PROBE, payload, format="json"), 413, "payload_too_large")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            [{"code": "invalid", "detail": "Bad.", "attr": "name"}],
            [{"code": "invalid", "detail": "Bad.", "attr": "name"}],
        ),
        ({"detail": "Gone away."}, [{"code": "error", "detail": "Gone away.", "attr": None}]),
        (
            {"name": ["Too long.", "Not unique."]},
            [
                {"code": "invalid", "detail": "Too long.", "attr": "name"},
                {"code": "invalid", "detail": "Not unique.", "attr": "name"},
            ],
        ),
        ("Plain text.", [{"code": "error", "detail": "Plain text.", "attr": None}]),
        (None, [{"code": "error", "detail": "Unprocessable Entity", "attr": None}]),
    ],
)
def test_an_error_answer_built_by_hand_still_renders_error_items(
    data: Any, expected: list[dict[str, Any]]
) -> None:
    """A view returning `Response(<anything>, status=422)` gets a full error envelope."""
    body = envelope_of(Response(data, status=422), data)
    assert body["success"] is False
    assert body["data"] is None
    assert body["errors"] == expected
