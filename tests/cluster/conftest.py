"""Fixtures of the cluster smoke test: a client of `make cluster` over HTTPS through nginx.

These tests run only when asked for (`-m cluster`, `make cluster-smoke`); a cluster that is
not up is a failure, never a skip. Nothing here touches the test database: every check goes
through the cluster's public addresses, as a client would.
"""

import json
import ssl
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from websockets.sync.client import ClientConnection, connect

from tests.envelope import assert_envelope
from tests.processes import eventually

ROOT = Path(__file__).resolve().parents[2]
CONTROL = ROOT / "scripts" / "cluster.sh"
HTTP_TIMEOUT = 15.0  # seconds any one request may take
WS_TIMEOUT = 10.0  # seconds a socket waits for an expected frame
SERVED_BY = "X-Served-By"  # the gunicorn worker's pid (GUNICORN_SERVED_BY_HEADER in the cluster)


def within(check: Callable[[], Any], seconds: float, what: str) -> Any:
    """The first truthy value of `check()` within `seconds`; a failure naming `what`."""
    value = eventually(check, within=seconds, interval=0.25)
    if not value:
        pytest.fail(f"{what}: not within {seconds:.0f} s")
    return value


class Answer:
    """One HTTP answer, readable as the suite reads the test client's (`status_code`,
    `answer["Header"]`, `json()`), so tests/envelope.py's assertions apply to it."""

    def __init__(self, response: requests.Response) -> None:
        """Wrap `response`; its JSON body is parsed once, when it has one."""
        self.response = response
        self.headers = response.headers
        self.status = self.status_code = response.status_code
        self.content = response.content
        json_body = "json" in response.headers.get("Content-Type", "")
        self.body: Any = response.json() if json_body else None

    def __getitem__(self, header: str) -> str:
        """A header's value (case-insensitive)."""
        return str(self.headers[header])

    def json(self) -> Any:
        """The parsed body."""
        return self.body

    @property
    def data(self) -> Any:
        """The envelope's `data`."""
        return self.body["data"]


@dataclass
class Cluster:
    """The addresses `scripts/cluster.sh env` prints, and a client of them."""

    env: dict[str, str]
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def url(self) -> str:
        """The HTTPS address of nginx."""
        return self.env["CLUSTER_URL"]

    @property
    def ca(self) -> str:
        """The local CA of the cluster's certificate (the only one trusted here)."""
        return self.env["CLUSTER_CA"]

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Answer:
        """Send one request to nginx over HTTPS; the JSON body is parsed when there is one."""
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        url = path if path.startswith("http") else f"{self.url}{path}"
        response = self.session.request(
            method,
            url,
            headers=all_headers,
            verify=self.ca,
            timeout=HTTP_TIMEOUT,
            allow_redirects=False,
            **kwargs,
        )
        return Answer(response)

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Answer:
        """`request`, asserting the status and the whole success envelope."""
        answer = self.request(method, path, **kwargs)
        assert answer.status == status, f"{method} {path}: {answer.status} {answer.body}"
        assert_envelope(answer, status)
        return answer

    def login(self, email: str, password: str) -> str:
        """An access token for these credentials."""
        answer = self.ok("POST", "/api/v1/auth/login/", json={"email": email, "password": password})
        return str(answer.data["access"])

    @contextmanager
    def socket(self, path: str, token: str) -> Iterator[ClientConnection]:
        """A WebSocket through nginx (wss), authenticated by the `bearer` subprotocol;
        closed when the block ends."""
        context = ssl.create_default_context(cafile=self.ca)
        ws_url = self.url.replace("https://", "wss://", 1) + path
        with connect(
            ws_url,
            ssl=context,
            subprotocols=["bearer", token],  # type: ignore[list-item]  # str is a Subprotocol
            open_timeout=WS_TIMEOUT,
            close_timeout=2,
        ) as ws:
            yield ws

    def control(self, command: str) -> None:
        """Run `scripts/cluster.sh <command>` (e.g. redis-stop), failing on a non-zero exit."""
        result = subprocess.run(  # noqa: S603 - the project's own script
            [str(CONTROL), command], capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


def next_event(ws: ClientConnection, kind: str, *, match: Callable[[dict[str, Any]], bool]) -> Any:
    """The next frame of type `kind` whose `data` satisfies `match` (other frames are
    skipped), within WS_TIMEOUT seconds."""
    deadline = time.monotonic() + WS_TIMEOUT
    seen: list[str] = []
    while (left := deadline - time.monotonic()) > 0:
        try:
            frame = json.loads(ws.recv(timeout=left))
        except TimeoutError:
            break
        seen.append(frame.get("type"))
        if frame.get("type") == kind and match(frame.get("data", frame)):
            return frame
    pytest.fail(f"no {kind} frame within {WS_TIMEOUT:.0f} s (saw {seen})")


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """The running cluster; a failure (never a skip) when it does not answer ready."""
    result = subprocess.run(  # noqa: S603 - the project's own script
        [str(CONTROL), "env"], capture_output=True, text=True, timeout=30, check=True
    )
    env = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    cluster = Cluster(env)
    try:
        ready = cluster.request("GET", "/health/ready/")
    except (requests.RequestException, OSError) as error:
        pytest.fail(f"the cluster is not up ({error}): run `make cluster` first")
    assert ready.status == 200, f"the cluster is not ready: {ready.body}"
    yield cluster
    cluster.session.close()


@pytest.fixture(scope="session")
def demo_logins(cluster: Cluster) -> dict[str, str]:
    """The seeded demo users' passwords by email (admin, manager, customer)."""
    lines = Path(cluster.env["CLUSTER_CREDENTIALS"]).read_text().splitlines()
    return dict(line.split(" ", 1) for line in lines if " " in line)


@pytest.fixture(scope="session")
def tokens(cluster: Cluster, demo_logins: dict[str, str]) -> dict[str, str]:
    """Access tokens of the demo admin, manager and customer (by first name)."""
    return {
        email.split("@")[0]: cluster.login(email, password)
        for email, password in demo_logins.items()
    }


@pytest.fixture(scope="session")
def newcomer(cluster: Cluster) -> dict[str, str]:
    """A user registered through the API for this run: email, password, id and token."""
    email = f"smoke-{uuid.uuid4().hex[:12]}@example.com"
    password = f"Smoke-{uuid.uuid4().hex}"
    registered = cluster.ok(
        "POST",
        "/api/v1/auth/register/",
        201,
        json={"email": email, "password": password, "name": "Smoke Tester"},
    )
    assert registered.data["email"] == email
    assert "customer" in registered.data["roles"]
    token = cluster.login(email, password)
    return {"email": email, "password": password, "id": registered.data["id"], "token": token}
