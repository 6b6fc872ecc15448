"""Trace ids, access lines, redaction and slow-query logs."""

import json
import logging
import re
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse, reverse_lazy
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.core.platform.logging import REDACTED, redact, redact_query_tokens, slow_query_wrapper
from tests.api_cases import API_VERSION
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

V1 = {"version": API_VERSION}
LOGIN = reverse_lazy("accounts:login", kwargs=V1)
REFRESH = reverse_lazy("accounts:refresh", kwargs=V1)
ME = reverse_lazy("accounts:me", kwargs=V1)


def test_trace_id_of_the_response_is_on_every_log_line_of_the_request(
    api_client: APIClient, user: User, logs
) -> None:
    response = api_client.post(LOGIN, {"email": user.email, "password": "wrong-password"})
    trace_id = response["X-Request-ID"]
    assert response.json()["meta"]["trace_id"] == trace_id
    records = logs.records()
    assert records
    assert {record["trace_id"] for record in records} == {trace_id}


def test_access_line_has_status_duration_method_path_and_user(
    auth_client: APIClient, user: User, logs
) -> None:
    auth_client.get(ME)
    (line,) = [r for r in logs.records() if r["event"] == "request_finished"]
    assert line["status"] == 200
    assert line["method"] == "GET"
    assert line["path"] == ME
    assert line["user_id"] == str(user.pk)
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "info"


def test_authenticated_user_id_is_bound_to_lines_logged_during_the_view(
    auth_client: APIClient, user: User, logs
) -> None:
    auth_client.get(f"{ME}?x=1")
    records = logs.records()
    assert "request_finished" in {r["event"] for r in records}
    assert all(r.get("user_id") == str(user.pk) for r in records)


def test_well_formed_incoming_request_id_is_kept(api_client: APIClient, logs) -> None:
    incoming = "edge-7f3a9c2e-0001"
    response = api_client.get(ME, HTTP_X_REQUEST_ID=incoming)
    assert response["X-Request-ID"] == incoming
    assert response.json()["meta"]["trace_id"] == incoming


@pytest.mark.parametrize("bad", ["short", "has spaces in it", "x" * 200, '"}{injected'])
def test_malformed_incoming_request_id_is_replaced(api_client: APIClient, bad: str) -> None:
    response = api_client.get(ME, HTTP_X_REQUEST_ID=bad)
    assert response["X-Request-ID"] != bad
    assert len(response["X-Request-ID"]) == 32


def test_each_request_gets_its_own_trace_id(api_client: APIClient) -> None:
    first, second = api_client.get(ME), api_client.get(ME)
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_no_log_line_contains_a_password_token_or_authorization_header(
    api_client: APIClient, user: User, logs
) -> None:
    response = api_client.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD})
    tokens = response.json()["data"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    api_client.get(f"{ME}?token={tokens['access']}&page=2")
    api_client.post(REFRESH, {"refresh": tokens["refresh"]})
    text = logs.text()
    assert DEFAULT_PASSWORD not in text
    assert tokens["access"] not in text
    assert tokens["refresh"] not in text
    assert "token=[REDACTED]&page=2" in text


def test_redact_walks_nested_structures() -> None:
    event = {
        "password": "p",
        "headers": {"Authorization": "Bearer abc.def", "Accept": "json"},
        "items": [{"refresh_token": "r"}, "url?token=abc"],
        "note": "sent Bearer eyJhbGciOi.x.y to upstream",
    }
    assert redact(event) == {
        "password": REDACTED,
        "headers": {"Authorization": REDACTED, "Accept": "json"},
        "items": [{"refresh_token": REDACTED}, "url?token=" + REDACTED],
        "note": f"sent Bearer {REDACTED} to upstream",
    }


def test_redact_query_tokens_keeps_other_parameters() -> None:
    assert (
        redact_query_tokens("/ws/?a=1&access_token=zz&b=2")
        == f"/ws/?a=1&access_token={REDACTED}&b=2"
    )


def test_log_lines_are_json(api_client: APIClient, logs) -> None:
    api_client.get(ME)
    lines = logs.text().splitlines()
    assert lines, "the request logged nothing"
    events = [json.loads(line)["event"] for line in lines]
    assert "request_finished" in events


def test_slow_queries_are_logged_without_parameters(settings, logs) -> None:
    settings.SLOW_QUERY_MS = 0
    with connection.execute_wrapper(slow_query_wrapper):
        User.objects.filter(email="secret-param@example.com").exists()
    slow = [r for r in logs.records() if r["event"] == "slow_query"]
    assert slow
    assert "accounts_user" in slow[0]["sql"]
    assert "secret-param" not in logs.text()
    assert slow[0]["duration_ms"] >= 0


def test_fast_queries_are_not_logged(settings, logs) -> None:
    settings.SLOW_QUERY_MS = 60_000
    with connection.execute_wrapper(slow_query_wrapper):
        User.objects.exists()
    assert not [r for r in logs.records() if r["event"] == "slow_query"]


def test_every_connection_gets_the_slow_query_wrapper() -> None:
    connection.ensure_connection()
    assert slow_query_wrapper in connection.execute_wrappers


def test_server_error_logs_carry_the_trace_id_and_no_query_tokens(logs, settings) -> None:
    settings.ROOT_URLCONF = "tests.core.urls"
    client = APIClient(raise_request_exception=False)
    response = client.get(f"{reverse('test-probe')}?token=SECRETTOKEN1&refresh=SECRETREFRESH")
    assert response.status_code == 500
    text = logs.text()
    assert "SECRETTOKEN1" not in text
    assert "SECRETREFRESH" not in text
    trace_id = response["X-Request-ID"]
    django_lines = [r for r in logs.records() if r["logger"] == "django.request"]
    assert django_lines, "Django logs the 500 too"
    assert all(r.get("trace_id") == trace_id for r in django_lines)
    assert all("request" not in r for r in django_lines)


def test_objects_in_log_fields_are_stringified_and_redacted() -> None:
    class Carrier:
        def __repr__(self) -> str:
            return "<Req '/x/?token=abc&y=1'>"

        __str__ = __repr__

    assert redact({"thing": Carrier()}) == {"thing": f"<Req '/x/?token={REDACTED}&y=1'>"}


def _line_both_ways(logs: Any, **fields: Any) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The same access line through the fast path and through structlog's stdlib bridge."""
    import structlog

    from apps.core.platform.logging import FastJSONLogger

    structlog.contextvars.bind_contextvars(trace_id="t" * 32, method="GET", path="/api/v1/x/")
    try:
        FastJSONLogger("apps.access").info("request_finished", **fields)
        structlog.get_logger("apps.access").info("request_finished", **fields)
    finally:
        structlog.contextvars.clear_contextvars()
    fast, slow = logs.records()[-2:]
    return fast, slow, logs.text()


def test_the_fast_access_line_is_the_line_structlog_writes(logs: Any) -> None:
    """Same keys in the same order, same values (the timestamp aside), same redaction."""
    fields = {"status": 200, "duration_ms": 1.5, "query": "a=1&token=abc", "user_id": None}
    fast, slow, text = _line_both_ways(logs, **fields)
    assert list(fast) == list(slow)
    assert {**fast, "timestamp": ""} == {**slow, "timestamp": ""}
    assert fast["query"] == f"a=1&token={REDACTED}"
    assert "abc" not in text
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z", fast["timestamp"])


def test_the_fast_line_redacts_any_field_it_does_not_know(logs: Any) -> None:
    fast, slow, _ = _line_both_ways(
        logs, status=200, authorization="Bearer x.y.z", note="Bearer a.b"
    )
    assert fast["authorization"] == slow["authorization"] == REDACTED
    assert fast["note"] == slow["note"] == f"Bearer {REDACTED}"


def test_the_fast_line_honours_the_level_and_the_console_renderer(logs: Any) -> None:
    """Below the logger's level nothing is written; with console logs the ordinary path
    renders it."""
    from apps.core.platform import logging as app_logging

    access = logging.getLogger("apps.access")
    access.setLevel(logging.WARNING)
    try:
        app_logging.FastJSONLogger("apps.access").info("request_finished", status=200)
    finally:
        access.setLevel(logging.NOTSET)
    assert logs.text() == ""
    app_logging._json_lines["enabled"] = False
    try:
        app_logging.FastJSONLogger("apps.access").info("request_finished", status=201)
    finally:
        app_logging._json_lines["enabled"] = True
    (line,) = logs.records()
    assert line["status"] == 201 and line["event"] == "request_finished"
