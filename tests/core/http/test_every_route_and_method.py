"""Every route of the API, every HTTP method, callers with and without roles: never a 5xx,
always the envelope (issue 12: TRACE, OPTIONS, PROPFIND and unknown methods were 500s)."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests import api_cases as api
from tests.chat import factories as chat
from tests.envelope import assert_envelope, assert_error
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ARGUMENTS = {
    "version": "v1",
    "model": "catalog.product",
    "provider": "fake",
    "token": "not-a-token",
    "reference": "not-a-reference",
}
METHODS = ("OPTIONS", "TRACE", "PROPFIND", "FOO", "PUT", "PATCH", "DELETE")


def _named_routes(
    patterns: Any, namespace: str = "", kwargs: frozenset[str] = frozenset()
) -> Iterator[tuple[str, frozenset[str]]]:
    """`(name, its URL arguments)` of every named route (format-suffix routes left out)."""
    for pattern in patterns:
        names = frozenset(getattr(pattern.pattern, "converters", {})) | frozenset(
            pattern.pattern.regex.groupindex
        )
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _named_routes(pattern.url_patterns, inner, kwargs | names)
        elif isinstance(pattern, URLPattern) and pattern.name and "format" not in names:
            yield f"{namespace}{pattern.name}", kwargs | names


def api_urls() -> list[str]:
    """One concrete URL per named route under /api/ (ids that exist nowhere)."""
    urls = set()
    for pattern in get_resolver().url_patterns:
        if not str(pattern.pattern).startswith("^api/"):
            continue
        for name, kwargs in _named_routes([pattern]):
            urls.add(reverse(name, kwargs={k: ARGUMENTS.get(k, api.UNKNOWN_ID) for k in kwargs}))
    return sorted(urls)


def test_the_walk_sees_the_routes_of_every_app() -> None:
    prefixes = {url.split("/")[3] for url in api_urls()}
    assert {"auth", "catalog", "orders", "wallet", "chat", "rbac", "trash", "uploads"} <= prefixes


@pytest.mark.parametrize("url", api_urls())
def test_no_method_on_any_route_is_a_server_error(url: str) -> None:
    callers = [None, UserFactory(), chat.chatter()]
    for caller in callers:
        client = api.client_for(caller)
        for method in METHODS:
            response = client.generic(method, url)
            assert response.status_code < 500, (method, url, response.content[:300])
            if response.status_code >= 400 and response["Content-Type"].startswith(
                "application/json"
            ):
                assert_envelope(response, response.status_code)


def test_a_database_that_refuses_is_503_with_retry_after_never_500(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 12: PostgreSQL down answered 500 `server_error`."""
    from django.db import OperationalError

    from apps.chat import views

    def refused(**kwargs: Any) -> Any:
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr(views, "room_list_of", refused)
    client = api.client_for(chat.chatter())
    client.raise_request_exception = False  # a 5xx is reported (logs, Sentry) as it should be
    response = client.get(api.api_url("chat-room-list"))
    body = assert_envelope(response, 503)
    assert body["errors"][0]["code"] == "service_unavailable"
    assert response["Retry-After"] == "5"


@pytest.mark.urls("tests.core.urls")
def test_a_crash_after_a_write_leaves_nothing_committed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12: a write whose answer failed to build (scope `own` without an owner field)
    was a 500 after the row and its audit row were committed, so a retry duplicated it."""
    from apps.core.models import AuditLog
    from tests.testapp.models import Note
    from tests.testapp.views import NoteViewSet

    def broken(self: Any, instance: Any, written: Any = None) -> Any:
        raise RuntimeError("the answer could not be built")

    monkeypatch.setattr(NoteViewSet, "get_response_data", broken)
    user = UserFactory()
    api.grant(user, "testapp.notes")
    client = api.client_for(user)
    client.raise_request_exception = False
    response = client.post(
        reverse("test-note-list"), {"title": "once", "body": "text", "priority": 1}, format="json"
    )
    assert_envelope(response, 500)
    assert not Note.all_objects.filter(title="once").exists()
    assert not AuditLog.objects.filter(model="testapp.note").exists()


@pytest.mark.urls("tests.core.urls")
def test_a_database_that_refuses_a_write_is_503_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Review of issue 12: with the request's transaction opened before DRF's error handling,
    a database down on POST/PUT/PATCH/DELETE escaped as a 500."""
    from django.db import OperationalError

    from apps.core.http.mixins import atomic

    class Refused:
        def __enter__(self) -> None:
            raise OperationalError("connection to server at 127.0.0.1 failed")

        def __exit__(self, *exc: object) -> None:
            return None

    user = UserFactory()
    api.grant(user, "testapp.notes")
    client = api.client_for(user)
    client.raise_request_exception = False
    monkeypatch.setattr(atomic.transaction, "atomic", lambda *a, **k: Refused())
    response = client.post(reverse("test-note-list"), {"title": "t", "body": "b"}, format="json")
    assert_error(response, 503, "service_unavailable")
    assert response["Retry-After"] == "5"
