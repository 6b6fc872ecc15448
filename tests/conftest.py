"""Fixtures shared by the suite, and the rule that service-only tests are skipped loudly."""

import io
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.models import User
from apps.core.platform.logging import build_formatter
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.openapi_contract import ContractError, contract

SERVICES_SKIP_REASON = (
    "needs PostgreSQL and Redis: run `make test-services` "
    "(DATABASE_URL=postgres://… REDIS_URL=redis://…)"
)
UPDATE_QUERY_BASELINES_OPTION = "--update-query-baselines"


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--update-query-baselines`: rewrite tests/query_counts.json from the measured counts."""
    parser.addoption(
        UPDATE_QUERY_BASELINES_OPTION,
        action="store_true",
        default=False,
        help="record the query counts of the generic endpoint tests as the new baselines "
        "(tests/query_counts.json, this database vendor only; safe with -n)",
    )


def services_available() -> bool:
    """True when the suite runs against PostgreSQL and Redis (the services pass)."""
    return bool(settings.USING_POSTGRES and settings.REDIS_URL)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `@pytest.mark.services` tests with a stated reason on the embedded default.

    In the services pass (`REQUIRE_SERVICES=1`) a missing service is an error, not a skip.
    """
    if services_available():
        return
    if os.environ.get("REQUIRE_SERVICES") == "1":
        raise pytest.UsageError(
            "REQUIRE_SERVICES=1 but DATABASE_URL is not PostgreSQL or REDIS_URL is unset."
        )
    skip = pytest.mark.skip(reason=SERVICES_SKIP_REASON)
    for item in items:
        if "services" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _no_publish_pause() -> Iterator[None]:
    """A broker refusal in one test never pauses publishing in the next, nor a Redis
    failure leaves the circuit breaker open for it."""
    from apps.core.platform.redis_breaker import BREAKER
    from apps.core.platform.tasks import PUBLISH_PAUSE

    PUBLISH_PAUSE.reset()
    BREAKER.reset()
    yield
    PUBLISH_PAUSE.reset()
    BREAKER.reset()


@pytest.fixture(autouse=True, scope="session")
def _responses_match_the_schema() -> Iterator[None]:
    """Every answer the test client gets under /api/v…/ must be what `/api/schema/` documents
    (tests/openapi_contract.py). `OPENAPI_CONTRACT_REPORT=<file>` appends the violations to
    that file instead of failing the tests (to survey a change, never in CI)."""
    report = os.environ.get("OPENAPI_CONTRACT_REPORT")
    original = Client.request

    def request(self: Client, **environ: Any) -> Any:
        response = original(self, **environ)
        if getattr(response, "streaming", False):
            return response
        try:
            contract().check(
                environ.get("REQUEST_METHOD", "GET"),
                environ.get("PATH_INFO", ""),
                response.status_code,
                response.get("Content-Type", ""),
                response.content,
            )
        except ContractError as violation:
            if not report:
                raise
            with Path(report).open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(str(violation)) + "\n")
        return response

    Client.request = request  # type: ignore[method-assign]
    yield
    Client.request = original  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _clear_caches() -> Iterator[None]:
    """Every test starts with empty caches (throttle counters included)."""
    for alias in settings.CACHES:
        caches[alias].clear()
    yield
    for alias in settings.CACHES:
        caches[alias].clear()


@pytest.fixture
def admin_client(db: None) -> Client:
    """A Django test client logged in as a superuser, root@example.com (it replaces
    pytest-django's fixture of that name, whose user has no email to log in with)."""
    root = User.objects.create_superuser("root@example.com", DEFAULT_PASSWORD, name="Root")
    client = Client()
    client.force_login(root)
    return client


@pytest.fixture
def api_client() -> APIClient:
    """An anonymous DRF test client."""
    return APIClient()


@pytest.fixture
def user(db: None) -> User:
    """An active user with the default password."""
    return UserFactory()


def bearer(user: User) -> str:
    """An `Authorization` header value with a fresh access token for `user`."""
    return f"Bearer {RefreshToken.for_user(user).access_token}"


@pytest.fixture
def auth_client(user: User) -> APIClient:
    """A client authenticated as `user` with a real JWT."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user))
    return client


class LogCapture:
    """Rendered log lines of the test, as the JSON the server would print."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        self.stream = io.StringIO()

    def text(self) -> str:
        """Everything logged so far, raw."""
        return self.stream.getvalue()

    def records(self) -> list[dict[str, Any]]:
        """Everything logged so far, one dict per JSON line."""
        return [json.loads(line) for line in self.text().splitlines() if line.strip()]


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    """Capture the JSON log lines written during the test (all levels)."""
    capture = LogCapture()
    handler = logging.StreamHandler(capture.stream)
    handler.setFormatter(build_formatter(json=True))
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield capture
    root.removeHandler(handler)
    root.setLevel(previous_level)


@pytest.fixture
def frozen_throttle_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin the throttles' clock mid-window: fixed windows reset on the minute, so a burst
    straddling a boundary may legitimately get twice the limit; tests assert one window."""
    from apps.core.http.throttles import AtomicWindowThrottle

    monkeypatch.setattr(AtomicWindowThrottle, "timer", staticmethod(lambda: 1_800_000_030.0))


LIVE_SERVER_BACKLOG = 128


@pytest.fixture
def server(live_server: Any) -> Iterator[str]:
    """The live server's URL, its listen backlog raised for the test.

    Django's test server listens with a backlog of 10 (WSGIServer.request_queue_size): 50
    clients connecting at the same instant overflow it and some get "connection reset by
    peer" before any request is read. Production (daphne) listens with a far deeper queue."""
    listener = live_server.thread.httpd.socket
    listener.listen(LIVE_SERVER_BACKLOG)
    yield str(live_server.url)
    listener.listen(live_server.thread.httpd.request_queue_size)
