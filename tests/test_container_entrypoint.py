"""The image's entry point (docker/entrypoint.py) and gunicorn's configuration
(config/gunicorn.conf.py), run for real: the health checks against gunicorn with uvicorn
workers under production settings, which refuses a probe the old image sent."""

import logging
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography import x509

from tests.config.test_settings import production_env
from tests.container import GUNICORN_CONF, entrypoint, load
from tests.processes import free_port, moto_s3

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------------
# Roles and probes
# ---------------------------------------------------------------------------------------------
def test_each_role_runs_its_process_with_the_configured_knobs() -> None:
    env = {"LOG_LEVEL": "INFO", "CELERY_CONCURRENCY": "4", "CELERY_BEAT_SCHEDULE": "/tmp/s"}  # noqa: S108
    assert entrypoint.role_command("web", env) == [
        "gunicorn", "config.asgi:application", "-c", "config/gunicorn.conf.py",
    ]  # fmt: skip
    worker = entrypoint.role_command("worker", env)
    assert worker[:4] == ["celery", "-A", "config", "worker"]
    assert "--loglevel=INFO" in worker and "--concurrency=4" in worker
    assert "--schedule=/tmp/s" in entrypoint.role_command("beat", env)
    assert entrypoint.role_command("migrate", {})[-2:] == ["migrate", "--noinput"]
    assert "--loglevel=WARNING" in entrypoint.role_command("worker", {})  # production's level
    assert entrypoint.role_command("shell", {}) is None


@pytest.mark.parametrize(
    ("allowed", "host"),
    [
        ("api.example.com,www.example.com", "api.example.com"),
        (".example.com", "example.com"),
        ("*", "localhost"),
        ("", "localhost"),
    ],
)
def test_the_probe_sends_a_host_production_accepts(allowed: str, host: str) -> None:
    assert entrypoint.probe_host(allowed) == host


@pytest.mark.parametrize(
    ("bind", "address"),
    [
        ("0.0.0.0:8000", "127.0.0.1:8000"),
        ("unix:/run/app.sock,10.0.0.5:9000", "10.0.0.5:9000"),
        ("[::]:8000", "[::1]:8000"),
        ("", "127.0.0.1:8000"),
    ],
)
def test_the_probe_reaches_the_web_process_from_inside_its_container(
    bind: str, address: str
) -> None:
    assert entrypoint.probe_address(bind) == address


def test_the_worker_probe_pings_only_this_containers_worker() -> None:
    command = entrypoint.worker_ping_command({}, "abc123")
    assert command[:5] == ["celery", "-A", "config", "inspect", "ping"]
    assert "--destination=celery@abc123" in command


def test_the_beat_probe_fails_until_the_schedule_is_saved_and_when_it_is_stale(
    tmp_path: Path,
) -> None:
    schedule = tmp_path / "celerybeat-schedule"
    env = {"CELERY_BEAT_SCHEDULE": str(schedule), "BEAT_HEALTH_MAX_AGE": "600"}
    assert entrypoint.health_beat(env, time.time()) == 1
    schedule.with_name("celerybeat-schedule.db").write_bytes(b"saved")
    assert entrypoint.health_beat(env, time.time()) == 0
    assert entrypoint.health_beat(env, time.time() + 601) == 1


def test_an_unknown_probe_or_flag_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert entrypoint.main(["health", "nonsense"], {}) == 2
    assert entrypoint.main(["--help"], {}) == 2
    assert "usage: entrypoint.py" in capsys.readouterr().err


def test_certs_writes_a_ca_signed_certificate_once_and_renews_it_near_expiry(
    tmp_path: Path,
) -> None:
    names = ["localhost", "s3.localhost", "127.0.0.1"]
    now = datetime.now(UTC)
    assert entrypoint.certs_write(tmp_path, names, days=90, now=now) is True
    leaf, ca = x509.load_pem_x509_certificates((tmp_path / "tls.crt").read_bytes())
    assert leaf.issuer == ca.subject
    leaf.verify_directly_issued_by(ca)  # signed by the CA (raises otherwise)
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_cert_sign
    ca_usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ca_usage.key_cert_sign and ca_usage.crl_sign and not ca_usage.digital_signature
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost", "s3.localhost"]
    assert (tmp_path / "tls.key").stat().st_mode & 0o077 == 0  # the key: its owner only
    assert entrypoint.certs_write(tmp_path, names, days=90, now=now) is False  # kept
    assert entrypoint.certs_write(tmp_path, ["api.example.com"], days=90, now=now) is True
    later = now + timedelta(days=89)
    assert entrypoint.certs_write(tmp_path, ["api.example.com"], days=90, now=later) is True


def test_certs_never_replaces_an_operators_certificate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tls.crt").write_text("the operator's chain")
    (tmp_path / "tls.key").write_text("the operator's key")
    assert entrypoint.main(["certs"], {"TLS_DIR": str(tmp_path)}) == 0
    assert (tmp_path / "tls.crt").read_text() == "the operator's chain"
    assert not (tmp_path / "ca.crt").exists()
    assert "kept" in capsys.readouterr().out


def test_certs_and_buckets_are_jobs_main_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`docker run IMAGE certs|buckets` run their job in this process (no exec)."""
    assert entrypoint.main(["certs"], {"TLS_DIR": str(tmp_path), "TLS_HOSTNAMES": "a.test"}) == 0
    assert (tmp_path / "tls.crt").is_file() and (tmp_path / "ca.crt").is_file()
    made: list[str] = []
    monkeypatch.setattr(entrypoint, "bucket_ensure", lambda env: made.append(env["B"]) or True)
    assert entrypoint.main(["buckets"], {"AWS_STORAGE_BUCKET_NAME": "media", "B": "x"}) == 0
    assert made == ["x"] and "bucket media: created" in capsys.readouterr().out


def test_buckets_creates_the_bucket_once_on_a_real_s3_server(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # moto keeps its buckets per test process, across servers: a name of this test's own.
    bucket = f"media-{uuid.uuid4().hex[:12]}"
    with moto_s3(settings, bucket="other") as client:
        endpoint = client.meta.endpoint_url
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            monkeypatch.setenv(name, "testing")
        env = {"AWS_STORAGE_BUCKET_NAME": bucket, "AWS_S3_ENDPOINT_URL": endpoint}
        assert entrypoint.bucket_ensure(env) is True
        assert entrypoint.bucket_ensure(env) is False  # already there
        assert bucket in [b["Name"] for b in client.list_buckets()["Buckets"]]


# ---------------------------------------------------------------------------------------------
# gunicorn's configuration
# ---------------------------------------------------------------------------------------------
def gunicorn_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    """config/gunicorn.conf.py as gunicorn reads it, with `env` set."""
    for name in [n for n in os.environ if n.startswith("GUNICORN_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load(GUNICORN_CONF, "gunicorn_settings")


def test_every_gunicorn_knob_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = gunicorn_settings(
        monkeypatch,
        GUNICORN_BIND="0.0.0.0:8000,unix:/run/app.sock",
        GUNICORN_WORKERS="3",
        GUNICORN_TIMEOUT="45",
        GUNICORN_GRACEFUL_TIMEOUT="20",
        GUNICORN_KEEPALIVE="90",
        GUNICORN_MAX_REQUESTS="500",
        GUNICORN_MAX_REQUESTS_JITTER="50",
        GUNICORN_LOG_LEVEL="WARNING",
    )
    assert conf.bind == ["0.0.0.0:8000", "unix:/run/app.sock"]
    assert (conf.workers, conf.timeout, conf.graceful_timeout, conf.keepalive) == (3, 45, 20, 90)
    assert (conf.max_requests, conf.max_requests_jitter) == (500, 50)
    assert conf.worker_class == "uvicorn_worker.UvicornWorker"
    assert conf.loglevel == "warning" and conf.preload_app is False
    assert conf.logconfig_dict["root"]["level"] == "WARNING"


def test_a_malformed_gunicorn_number_stops_the_start_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(SystemExit, match="GUNICORN_WORKERS must be an integer"):
        gunicorn_settings(monkeypatch, GUNICORN_WORKERS="two")


def test_uvicorns_access_record_becomes_fields_with_the_worker_pid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conf = gunicorn_settings(monkeypatch)
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.1:5000", "GET", "/api/v1/", "1.1", 200), None,
    )  # fmt: skip
    assert conf.ProcessIdFilter().filter(record) is True
    assert (record.client, record.method, record.path, record.status) == (
        "10.0.0.1:5000", "GET", "/api/v1/", 200,
    )  # fmt: skip
    assert record.getMessage() == conf.ACCESS_EVENT and record.pid == os.getpid()


# ---------------------------------------------------------------------------------------------
# The real thing: gunicorn + uvicorn workers under production settings
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def production_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """gunicorn with one uvicorn worker serving config.asgi under production settings
    (SQLite, local memory), as the image's `web` role starts it."""
    database = tmp_path_factory.mktemp("prod") / "db.sqlite3"
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GUNICORN_"))},
        **production_env(ALLOWED_HOSTS="api.example.com"),
        "DATABASE_URL": f"sqlite:///{database}",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_SERVED_BY_HEADER": "true",
    }
    for name in (
        "REDIS_URL",
        "CELERY_BROKER_URL",
        "AWS_STORAGE_BUCKET_NAME",
        "PYTEST_XDIST_WORKER",
    ):
        env.pop(name, None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT, env=env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(  # noqa: S603 - the project's own server
        [str(gunicorn), "config.asgi:application", "-c", "config/gunicorn.conf.py"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while entrypoint.health_http("live", env) != 0:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"gunicorn did not start: {process.communicate()[0][-3000:]}")
            time.sleep(0.2)
        yield env
    finally:
        process.terminate()
        process.communicate(timeout=30)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hands a redirect back as it is (the test reads its Location)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        """Never follow."""
        return


NO_REDIRECTS = urllib.request.build_opener(_NoRedirect)


def status_of(url: str, headers: dict[str, str]) -> tuple[int, Any]:
    """Status and headers (case-insensitive) of a GET."""
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - our own server
    try:
        with NO_REDIRECTS.open(request, timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


def test_the_health_checks_pass_under_production_settings(
    production_server: dict[str, str],
) -> None:
    assert entrypoint.health_http("live", production_server) == 0
    assert entrypoint.health_http("ready", production_server) == 0


def test_the_old_probe_to_127_0_0_1_is_refused_by_production(
    production_server: dict[str, str],
) -> None:
    """What the previous image's HEALTHCHECK did: production's ALLOWED_HOSTS answers 400."""
    url = f"http://{production_server['GUNICORN_BIND']}/health/live/"
    assert status_of(url, {})[0] == 400


def test_gunicorn_serves_the_api_over_uvicorn_workers(production_server: dict[str, str]) -> None:
    base = f"http://{production_server['GUNICORN_BIND']}"
    headers = {"Host": "api.example.com", "X-Forwarded-Proto": "https"}
    status, answer = status_of(f"{base}/api/v1/catalog/categories/", headers)
    assert status == 200 and answer["X-Served-By"].isdigit()
    # Plain HTTP (no proxy saying https) is redirected to HTTPS, as production requires.
    status, answer = status_of(f"{base}/api/v1/catalog/categories/", {"Host": "api.example.com"})
    assert status == 301 and answer["Location"].startswith("https://api.example.com/")
