"""DATABASE_URL read for the settings, refused in one line when it is not a database URL."""

from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

SUPPORTED_SCHEMES = ("postgres", "postgresql", "pgsql", "sqlite")
MALFORMED_MESSAGE = (
    "DATABASE_URL is not a database URL ({cause}): use "
    "postgres://user@host:5432/name or sqlite:///path/to/file.sqlite3"
)


def database_from_env(env: environ.Env, *, default: str) -> dict[str, Any]:
    """`env.db("DATABASE_URL")`, or ImproperlyConfigured naming the variable and the cause."""
    value = env.str("DATABASE_URL", default=default)
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if scheme not in SUPPORTED_SCHEMES:
        cause = (
            f"scheme {scheme!r} is not one of {', '.join(SUPPORTED_SCHEMES)}"
            if scheme
            else "no scheme://"
        )
        raise ImproperlyConfigured(MALFORMED_MESSAGE.format(cause=cause))
    try:
        config: dict[str, Any] = env.db_url_config(value)
    except Exception as exc:  # django-environ raises several kinds for a bad URL
        raise ImproperlyConfigured(MALFORMED_MESSAGE.format(cause=exc)) from exc
    if not config.get("ENGINE") or (scheme != "sqlite" and not config.get("NAME")):
        raise ImproperlyConfigured(MALFORMED_MESSAGE.format(cause="no database name"))
    return config
