"""Helpers for tests that start real server processes (daphne, celery worker, moto)."""

import contextlib
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

from django.db import connection


def eventually(check: Callable[[], Any], *, within: float = 10.0, interval: float = 0.1) -> Any:
    """The first truthy value of `check()`, polled every `interval` seconds (a process outside
    the test catching up), or None when `within` seconds pass without one."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    return None


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_other_db_sessions_to_close(timeout: float = 10.0) -> None:
    """PostgreSQL drops a dead client's session a moment after its process exits; wait, so
    the test database can be dropped at teardown."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            # Raw SQL on purpose: pg_stat_activity is a system view the ORM has no model for.
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.2)


ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def celery_worker(*, env: dict[str, str] | None = None, queue: str | None = None) -> Iterator[None]:
    """A real `celery worker` process on this test's PostgreSQL database and the broker of the
    environment (its default queue, or `queue`), stopped when the block ends."""
    process_env = {**_test_database_env(), "CELERY_TASK_ALWAYS_EAGER": "false", **(env or {})}
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=WARNING",
        *([f"--queues={queue}"] if queue else []),
    ]
    worker = subprocess.Popen(command, cwd=ROOT, env=process_env)  # noqa: S603 - fixed command
    try:
        yield
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        wait_for_other_db_sessions_to_close()


def _test_database_env() -> dict[str, str]:
    """The environment of a child process on this test's PostgreSQL database."""
    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }


@contextmanager
def asgi_server(*, timeout: float = 30.0, env: dict[str, str] | None = None) -> Iterator[int]:
    """A real daphne process serving config.asgi (HTTP and WebSockets) on this test's
    database and the Redis of the environment (or `env`'s); yields its port once it accepts
    connections."""
    port = free_port()
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
    server = subprocess.Popen(  # noqa: S603 - fixed command
        [*command, "config.asgi:application"],
        cwd=ROOT,
        env={**_test_database_env(), **(env or {})},
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)
        wait_for_other_db_sessions_to_close()


class RedisServer:
    """A private redis-server on one port (no persistence), for fault drills: `start()`,
    `stop()` (a kill, as an outage) and `start()` again on the same port."""

    def __init__(self, port: int) -> None:
        """Not started yet."""
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Start it and wait until it accepts connections."""
        executable = shutil.which("redis-server")
        if executable is None:
            raise RuntimeError("redis-server is not installed (the services pass needs it)")
        arguments = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        self.process = subprocess.Popen(  # noqa: S603 - fixed command
            [executable, *arguments, "--appendonly", "no"], stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        """Kill it (SIGKILL: an outage, not a shutdown)."""
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)  # a frozen one dies too
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def hang(self) -> None:
        """Freeze it (SIGSTOP): connections are still accepted by the kernel, nothing answers."""
        if self.process is not None:
            self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Unfreeze it (SIGCONT)."""
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)

    def __enter__(self) -> "RedisServer":
        """Started."""
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stopped."""
        self.stop()


class TcpProxy:
    """A TCP forwarder from a loopback port to a service's port, for fault drills on a service
    the test cannot kill itself (the machine's PostgreSQL): `stop()` cuts every connection
    and refuses new ones, which is what the service's clients see when it dies; `start()`
    again on the same port is the service back."""

    def __init__(self, target_port: int, port: int | None = None) -> None:
        """Not started yet; listens on `port` (a free one by default)."""
        self.target_port = target_port
        self.port = port or free_port()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Accept and forward connections."""
        listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and cut the open ones."""
        if self._listener is not None:
            # shutdown() first: close() alone does not wake the thread blocked in accept().
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        """Forward each accepted connection until the listener closes."""
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        """Copy bytes both ways until either side closes."""
        upstream.settimeout(None)
        pair = {client: upstream, upstream: client}
        try:
            while True:
                readable, _, _ = select.select(list(pair), [], [])
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    pair[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                for sock in pair:
                    self._sockets.discard(sock)
                    sock.close()

    def __enter__(self) -> "TcpProxy":
        """Started."""
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stopped."""
        self.stop()


@contextmanager
def tasks_sent_to_the_broker() -> Iterator[None]:
    """Inside the block, dispatched tasks go to the broker instead of running inline."""
    from django.conf import settings

    from config.celery import app

    with mock.patch.object(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        app.conf.task_always_eager = False
        try:
            yield
        finally:
            app.conf.task_always_eager = True


@contextmanager
def moto_s3(settings: Any, bucket: str = "media") -> Iterator[Any]:
    """A moto S3 server on loopback with `bucket`, the project's default storage pointed at
    it (through pytest-django's `settings`); yields a boto3 client of that server."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_S3_ENDPOINT_URL = endpoint
    settings.AWS_ACCESS_KEY_ID = "testing"
    settings.AWS_SECRET_ACCESS_KEY = "testing"
    settings.AWS_S3_REGION_NAME = "us-east-1"
    settings.AWS_S3_ADDRESSING_STYLE = "path"
    settings.AWS_DEFAULT_ACL = None
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "apps.core.uploads.storage.MediaS3Storage"},
    }
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=bucket)
    try:
        yield client
    finally:
        server.stop()
