"""Assertions on the response envelope, shared by every test module."""

from typing import Any

ENVELOPE_KEYS = {"success", "status", "message", "data", "errors", "meta"}


def assert_envelope(response: Any, status: int) -> dict[str, Any]:
    """The response is JSON in the envelope with this status; returns the body."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == ENVELOPE_KEYS, body
    assert body["status"] == status
    assert body["success"] is (status < 400)
    assert isinstance(body["message"], str)
    assert body["message"]
    assert set(body["meta"]) == {"trace_id", "pagination"}
    assert body["meta"]["trace_id"] == response["X-Request-ID"]
    if status < 400:
        assert body["errors"] is None
    else:
        assert body["data"] is None
        assert body["errors"], "an error envelope lists at least one error"
        for error in body["errors"]:
            assert set(error) == {"code", "detail", "attr"}
    return body


def assert_error(response: Any, status: int, code: str, attr: str | None = None) -> dict[str, Any]:
    """An error envelope with this status holding an error of this code (and attr)."""
    body = assert_envelope(response, status)
    pairs = [(error["code"], error["attr"]) for error in body["errors"]]
    assert (code, attr) in pairs, pairs
    return body
