"""Settings: the embedded default, production's refusals and `check --deploy`."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.conf import settings

from config.settings import base

ROOT = Path(__file__).resolve().parents[2]
# What config.settings.production refuses to start without.
PRODUCTION_REQUIRED = (
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "FIELD_ENCRYPTION_KEYS",
    "EMAIL_BACKEND",
    "PASSWORD_RESET_URL",
    "PAYMENT_WEBHOOK_SECRET",
)
SERVICE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "AWS_STORAGE_BUCKET_NAME")


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`manage.py <args>` in a fresh process with a clean environment plus `env`."""
    base = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    base.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(  # noqa: S603 - fixed interpreter and arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def production_env(**overrides: str) -> dict[str, str]:
    """A complete production environment, with `overrides` applied."""
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "x" * 20 + Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "api.example.com",
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "PASSWORD_RESET_URL": "https://app.example.com/reset?uid={uid}&token={token}",
        "PAYMENT_WEBHOOK_SECRET": Fernet.generate_key().decode(),
        "PAYMENT_PROVIDER": "fake",
        "PAYMENT_ALLOW_FAKE": "true",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v}


def test_time_is_utc_and_argon2_hashes_first() -> None:
    assert settings.USE_TZ is True
    assert settings.TIME_ZONE == "UTC"
    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


@pytest.mark.parametrize("missing", PRODUCTION_REQUIRED)
def test_production_refuses_to_start_without(missing: str) -> None:
    result = run_manage("check", **production_env(**{missing: ""}))
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_refuses_the_development_secret_key() -> None:
    result = run_manage("check", **production_env(SECRET_KEY="django-insecure-" + "x" * 60))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_the_fake_payment_provider_unless_allowed() -> None:
    result = run_manage("check", **production_env(PAYMENT_ALLOW_FAKE=""))
    assert result.returncode != 0
    assert "PAYMENT_PROVIDER" in result.stderr


def test_check_deploy_under_production_prints_no_warning() -> None:
    result = run_manage("check", "--deploy", **production_env())
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "WARNING" not in output
    assert "System check identified no issues" in output


# A `manage.py` call printing which backend each switchable part uses.
BACKENDS_PROBE = (
    "shell",
    "--no-imports",
    "-c",
    "from django.conf import settings as s;"
    "print(s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'],"
    " s.CELERY_TASK_ALWAYS_EAGER, s.CHANNEL_LAYERS['default']['BACKEND'],"
    " s.STORAGES['default']['BACKEND'])",
)


def test_embedded_default_needs_no_environment() -> None:
    result = run_manage(
        *BACKENDS_PROBE,
        DJANGO_SETTINGS_MODULE="config.settings.local",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "apps.core.db.backends.sqlite3",
        "django.core.cache.backends.locmem.LocMemCache",
        "True",
        "channels.layers.InMemoryChannelLayer",
        "django.core.files.storage.FileSystemStorage",
    ]


def test_service_variables_switch_each_part() -> None:
    result = run_manage(
        *BACKENDS_PROBE,
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/app",
        REDIS_URL="redis://127.0.0.1:6379/0",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/1",
        AWS_STORAGE_BUCKET_NAME="media",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "django_redis.cache.RedisCache",
        "False",
        "channels_redis.core.RedisChannelLayer",
        "apps.core.uploads.storage.MediaS3Storage",
    ]


def test_sentry_is_initialised_only_when_a_dsn_is_set() -> None:
    probe = "import sentry_sdk; print(sentry_sdk.get_client().is_active())"
    without = run_manage("shell", "--no-imports", "-c", probe)
    with_dsn = run_manage(
        "shell", "--no-imports", "-c", probe, SENTRY_DSN="https://key@sentry.invalid/1"
    )
    assert without.stdout.split() == ["False"], without.stderr
    assert with_dsn.stdout.split() == ["True"], with_dsn.stderr


def test_the_embedded_default_generates_its_own_secret_key_once(tmp_path: Any) -> None:
    """Issue 12: the embedded default's SECRET_KEY was a constant in the repository, so anyone
    could forge an admin JWT for a demo server started with `make run`."""
    from concurrent.futures import ThreadPoolExecutor

    from django.conf import settings

    from config.local_secret import PREFIX, local_secret_key

    path = tmp_path / ".local-secret-key"
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(lambda _: local_secret_key(path), range(16)))
    assert len(keys) == 1
    (key,) = keys
    assert key.startswith(PREFIX) and len(key) > 60
    assert path.read_text().strip() == key
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert local_secret_key(tmp_path / "other") != key
    assert settings.SECRET_KEY != "django-insecure-embedded-default-not-for-production"
    result = run_manage("check", **production_env(SECRET_KEY=key))
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_the_local_settings_allow_the_dev_servers_and_log_for_people() -> None:
    """Issue 14: a frontend dev server's origins are allowed by default, and the console
    renderer writes the logs (JSON stays the default of every other settings module)."""
    probe = (
        "from django.conf import settings; "
        "print(settings.CORS_ALLOWED_ORIGINS == settings.LOCAL_FRONTEND_ORIGINS, settings.LOG_JSON)"
    )
    result = run_manage("shell", "-c", probe, DJANGO_SETTINGS_MODULE="config.settings.local")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["True", "False"]


@pytest.mark.parametrize(
    ("url", "cause"),
    [
        ("postgres//no-scheme", "no scheme://"),
        ("bogus://host/db", "scheme 'bogus' is not one of"),
        ("postgres://host-without-a-name", "no database name"),
    ],
)
def test_a_malformed_database_url_is_one_line_naming_it(url: str, cause: str) -> None:
    result = run_manage("check", DATABASE_URL=url)
    assert result.returncode != 0
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: DATABASE_URL is not a database URL (") and cause in line


def test_an_unreachable_database_is_one_line_without_the_password() -> None:
    result = run_manage(
        "migrate", DATABASE_URL="postgres://someone:s3cret@127.0.0.1:1/app", DB_POOL="false"
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    where = "postgres://127.0.0.1:1/app"
    assert last.startswith(f"error: the database at DATABASE_URL ({where}) is unreachable: ")
    assert "Connection refused" in last
    assert "s3cret" not in result.stderr + result.stdout


def test_make_run_with_the_port_taken_is_one_line_naming_another() -> None:
    """Issue 14: the port is checked before anything is installed or migrated."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(  # noqa: S603 - fixed command
            ["make", "--no-print-directory", "run", f"PORT={port}"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode != 0
    assert f"make run: port {port} is in use; choose another with: make run PORT=8001" in (
        result.stderr
    )
    assert "migrate" not in result.stdout


@pytest.mark.parametrize(("level", "expected"), [("", "WARNING"), ("INFO", "INFO")])
def test_production_logs_warnings_by_default_and_staging_may_ask_for_more(
    level: str, expected: str
) -> None:
    """Issue 15: production's root logger is at WARNING unless LOG_LEVEL says otherwise."""
    probe = "import logging; print(logging.getLevelName(logging.getLogger().level))"
    result = run_manage("shell", "-c", probe, **production_env(LOG_LEVEL=level))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == expected
