"""`make bench`: the product list and a trivial endpoint through the whole stack, side by side.

One uvicorn server (tests.bench.stack.settings) serves, in the same process and on the same
data (1,000 public products, each with a category and 3 tags), the project's product list
(cache off and on), the same list in vanilla DRF and in django-ninja, and a trivial endpoint
on the core layer, in plain DRF and in ninja (tests/bench/stack/peers.py). A load generator
(wrk where installed, else a small asyncio client) runs each endpoint in turn for a few
seconds, the whole set repeated; the table shows each one's median requests per second and
the ratios. The items of the three lists are checked to be the same before anything is
timed. On SQLite always; on PostgreSQL (with Redis as the cache) when both answer, where 1
and 2 uvicorn workers are also compared. Nothing about time is asserted.

Knobs (environment): BENCH_STACK_SECONDS (3) per run, BENCH_STACK_ROUNDS (3),
BENCH_STACK_CONNECTIONS (8), BENCH_STACK_PRODUCTS (1000), BENCH_STACK_DATABASES
(`sqlite,postgres`). `make bench-smoke` runs it tiny, to prove the harness works.
"""

import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.processes import ROOT, free_port

pytestmark = [pytest.mark.bench]
SECONDS = float(os.environ.get("BENCH_STACK_SECONDS", "3"))
ROUNDS = int(os.environ.get("BENCH_STACK_ROUNDS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_STACK_CONNECTIONS", "8"))
PRODUCTS = int(os.environ.get("BENCH_STACK_PRODUCTS", "1000"))
DATABASES = os.environ.get("BENCH_STACK_DATABASES", "sqlite,postgres").split(",")
POSTGRES = os.environ.get("SERVICES_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/app")
REDIS = os.environ.get("BENCH_STACK_REDIS_URL", "redis://127.0.0.1:6379/12")
PAGES = (20, 100)
LIST_FORMS = {
    "project, cache off": "/api/v1/bench/core/products/?page_size={size}",
    "project, cache on": "/api/v1/catalog/products/?page_size={size}",
    "vanilla DRF": "/bench/drf/products/?page_size={size}",
    "django-ninja": "/bench/ninja/products?page_size={size}",
}
PING_FORMS = {
    "project core layer": "/api/v1/bench/core/ping/",
    "plain DRF APIView": "/bench/drf/ping/",
    "django-ninja": "/bench/ninja/ping",
}


def reachable(url: str) -> bool:
    """True when the URL's host accepts a TCP connection within a second."""
    parts = urlsplit(url)
    default = 6379 if parts.scheme.startswith("redis") else 5432
    try:
        socket.create_connection((parts.hostname, parts.port or default), 1).close()
    except OSError:
        return False
    return True


@contextmanager
def bench_database(kind: str) -> Iterator[dict[str, str]]:
    """The environment of a fresh benchmark database of `kind`, dropped afterwards."""
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="bench-stack-")
        try:
            yield {"DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3"}
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    import psycopg

    name = f"bench_stack_{os.getpid()}"
    admin = POSTGRES.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')  # a name made here, not input
    try:
        yield {
            "DATABASE_URL": POSTGRES.rsplit("/", 1)[0] + f"/{name}",
            "REDIS_URL": REDIS,
            "DB_POOL": "1",
        }
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(database: dict[str, str]) -> dict[str, str]:
    """The environment of the benchmark's processes."""
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DB_POOL")}
    return {**env, "DJANGO_SETTINGS_MODULE": "tests.bench.stack.settings", **database}


@contextmanager
def uvicorn_server(env: dict[str, str], workers: int) -> Iterator[str]:
    """uvicorn serving config.asgi with `workers` processes; yields its base URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "config.asgi:application",
        "--host=127.0.0.1",
        f"--port={port}",
        f"--workers={workers}",
        "--no-access-log",
        "--log-level=warning",
        "--loop=uvloop",
        "--http=httptools",
    ]
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(  # noqa: S603 - fixed command
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/health/live/", timeout=2) as answer:  # noqa: S310
                        if answer.status == 200:
                            break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError(log.read().decode()[-3000:]) from None
                    time.sleep(0.2)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=30)


def get_json(url: str) -> Any:
    """One GET's JSON body."""
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - a local server
        return json.loads(answer.read())


def wrk_load(url: str, seconds: float, connections: int) -> tuple[float, int]:
    """(requests per second, answers other than 2xx/3xx) measured by wrk."""
    output = subprocess.run(  # noqa: S603 - fixed command
        ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", url],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return rate, int(errors.group(1)) if errors else 0


async def _client(host: str, port: int, path: str, stop: float, counts: list[int]) -> None:
    """One keep-alive connection sending GETs until `stop`, counting answers by class."""
    reader, writer = await asyncio.open_connection(host, port)
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    try:
        while time.monotonic() < stop:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            counts[0 if head[9:10] in (b"2", b"3") else 1] += 1
    finally:
        writer.close()


def asyncio_load(url: str, seconds: float, connections: int) -> tuple[float, int]:
    """(requests per second, answers other than 2xx/3xx) from an asyncio client."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    counts = [0, 0]

    async def run() -> float:
        started = time.monotonic()
        stop = started + seconds
        await asyncio.gather(
            *(
                _client(parts.hostname or "", parts.port or 80, path, stop, counts)
                for _ in range(connections)
            )
        )
        return time.monotonic() - started

    elapsed = asyncio.run(run())
    return sum(counts) / elapsed, counts[1]


def load(url: str) -> float:
    """Requests per second on `url` (every answer must be a success)."""
    measure = wrk_load if shutil.which("wrk") else asyncio_load
    rate, failures = measure(url, SECONDS, CONNECTIONS)
    assert failures == 0, f"{failures} answers were not 2xx/3xx from {url}"
    return rate


def medians(base: str, forms: dict[str, str]) -> dict[str, float]:
    """Each form's median requests per second over ROUNDS interleaved rounds."""
    rates: dict[str, list[float]] = {name: [] for name in forms}
    for path in forms.values():  # warm every form (connections, caches, code paths)
        asyncio_load(base + path, 0.3, 2)
    for _ in range(ROUNDS):
        for name, path in forms.items():
            rates[name].append(load(base + path))
    return {name: statistics.median(values) for name, values in rates.items()}


def check_same_items(base: str, size: int) -> None:
    """The three lists give the same products in the same order, and the project's items
    are DRF's exactly."""
    project = get_json(base + LIST_FORMS["project, cache off"].format(size=size))["data"]
    drf = get_json(base + LIST_FORMS["vanilla DRF"].format(size=size))["results"]
    ninja = get_json(base + LIST_FORMS["django-ninja"].format(size=size))["items"]
    assert len(project) == size
    assert project == drf
    assert [item["id"] for item in ninja] == [item["id"] for item in project]


def table(rows: list[tuple[str, ...]]) -> str:
    """Rows as an aligned text table (the first row is the header)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    )


def test_the_product_list_and_a_trivial_endpoint_against_drf_and_ninja() -> None:
    """Print the side-by-side table (requests per second, medians, and ratios)."""
    kinds = [
        kind for kind in DATABASES if kind == "sqlite" or (reachable(POSTGRES) and reachable(REDIS))
    ]
    assert kinds, f"no database to run on: {DATABASES}"
    rows: list[tuple[str, ...]] = [
        (
            "database",
            "endpoint",
            "project",
            "project cached",
            "vanilla DRF",
            "ninja",
            "project/DRF",
            "project/ninja",
            "cached/DRF",
        )
    ]
    notes: list[str] = []
    for kind in kinds:
        with bench_database(kind) as database:
            env = server_env(database)
            subprocess.run(  # noqa: S603 - fixed command
                [sys.executable, "-m", "tests.bench.stack.prepare", str(PRODUCTS)],
                cwd=ROOT,
                env=env,
                check=True,
            )
            with uvicorn_server(env, workers=1) as base:
                for size in PAGES:
                    check_same_items(base, min(size, PRODUCTS))
                    forms = {name: path.format(size=size) for name, path in LIST_FORMS.items()}
                    rate = medians(base, forms)
                    core, cached = rate["project, cache off"], rate["project, cache on"]
                    drf, ninja = rate["vanilla DRF"], rate["django-ninja"]
                    rows.append(
                        (
                            kind,
                            f"products, page {size}",
                            f"{core:.0f}",
                            f"{cached:.0f}",
                            f"{drf:.0f}",
                            f"{ninja:.0f}",
                            f"{core / drf:.2f}x",
                            f"{core / ninja:.2f}x",
                            f"{cached / drf:.2f}x",
                        )
                    )
                rate = medians(base, PING_FORMS)
                core, drf, ninja = (
                    rate["project core layer"],
                    rate["plain DRF APIView"],
                    rate["django-ninja"],
                )
                rows.append(
                    (
                        kind,
                        "trivial endpoint",
                        f"{core:.0f}",
                        "-",
                        f"{drf:.0f}",
                        f"{ninja:.0f}",
                        f"{core / drf:.2f}x",
                        f"{core / ninja:.2f}x",
                        "-",
                    )
                )
            if kind == "postgres":
                per_workers = {}
                for workers in (1, 2):
                    with uvicorn_server(env, workers=workers) as base:
                        path = LIST_FORMS["project, cache off"].format(size=20)
                        per_workers[workers] = medians(base, {"list": path})["list"]
                notes.append(
                    f"postgres, products page 20, cache off: 1 worker {per_workers[1]:.0f} req/s, "
                    f"2 workers {per_workers[2]:.0f} req/s ({per_workers[2] / per_workers[1]:.2f}x)"
                )
    generator = "wrk" if shutil.which("wrk") else "asyncio client"
    print(  # noqa: T201 - the benchmark's output
        f"\n[bench] full stack: uvicorn 1 worker, {generator}, {CONNECTIONS} connections, "
        f"{SECONDS:g} s x {ROUNDS} rounds interleaved, median requests/s, {PRODUCTS} products\n"
        + table(rows)
        + "".join(f"\n[bench] {note}" for note in notes)
    )


def test_the_stack_benchmark_settings_are_bench_only() -> None:
    """The peers live under tests/: nothing in apps/ or config/ imports them."""
    for folder in ("apps", "config"):
        for path in Path(ROOT, folder).rglob("*.py"):
            text = path.read_text()
            assert "tests.bench" not in text and "ninja" not in text, path
