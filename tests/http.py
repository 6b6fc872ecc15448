"""Real HTTP from several threads at once, for concurrency tests against a live server."""

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def send_json(
    url: str, payload: Any, *, method: str = "POST", headers: dict[str, str] | None = None
) -> int:
    """Send `payload` as JSON with `method`; the status, for success and error alike."""
    request = urllib.request.Request(  # noqa: S310 - the URL is the test's own live server
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def patch_in_parallel(
    url: str, payloads: list[Any], *, headers: dict[str, str] | None = None
) -> list[int]:
    """PATCH each payload from its own thread, all released together; their statuses."""
    barrier = threading.Barrier(len(payloads))

    def fire(payload: Any) -> int:
        barrier.wait(timeout=30)
        return send_json(url, payload, method="PATCH", headers=headers)

    with ThreadPoolExecutor(max_workers=len(payloads)) as pool:
        return list(pool.map(fire, payloads))


def post_in_parallel(
    url: str, payload: Any, *, parallel: int, headers: dict[str, str] | None = None
) -> list[int]:
    """Fire `parallel` identical POSTs released together by a barrier; their statuses."""
    barrier = threading.Barrier(parallel)

    def fire() -> int:
        barrier.wait(timeout=30)
        return send_json(url, payload, headers=headers)

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        return list(pool.map(lambda _: fire(), range(parallel)))


def post_each_in_parallel(calls: list[tuple[str, Any, dict[str, str]]]) -> list[int]:
    """POST each `(url, payload, headers)` from its own thread, all released together; their
    statuses, in the order of `calls`."""
    barrier = threading.Barrier(len(calls))

    def fire(call: tuple[str, Any, dict[str, str]]) -> int:
        url, payload, headers = call
        barrier.wait(timeout=30)
        return send_json(url, payload, headers=headers)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(fire, calls))


def post_multipart(url: str, fields: dict[str, str], file_bytes: bytes, filename: str) -> int:
    """POST a multipart form (fields, then `file`) as a browser would; returns the status."""
    boundary = f"----test{uuid.uuid4().hex}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + file_bytes
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    request = urllib.request.Request(  # noqa: S310 - the test's own servers
        url,
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def timed_call(
    base: str, path: str, *, body: Any = None, token: str | None = None
) -> tuple[int, dict[str, Any], float]:
    """One request to a server a test started: its status, its JSON body (with the
    `Retry-After` header under `_retry_after`) and how long it took, in seconds."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}{path}", data=data, headers=headers)  # noqa: S310
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
            status, raw, retry_after = int(response.status), response.read(), None
    except urllib.error.HTTPError as error:
        status, raw, retry_after = int(error.code), error.read(), error.headers["Retry-After"]
    took = time.monotonic() - started
    payload = json.loads(raw) if raw else {}
    payload["_retry_after"] = retry_after
    return status, payload, took
