#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys
from urllib.parse import urlsplit


def main() -> None:
    """Run a management command (settings default to the local, embedded mode). A
    misconfiguration or an unreachable database is one line naming the cause, not a
    traceback (`DJANGO_TRACEBACK=1` shows it)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        if os.environ.get("DJANGO_TRACEBACK"):
            raise
        sys.exit(f"error: {exc}")
    except OperationalError as exc:
        if os.environ.get("DJANGO_TRACEBACK"):
            raise
        cause = " ".join(str(exc).split())  # one line (the driver's message has several)
        where = database_location()
        sys.exit(f"error: the database at DATABASE_URL ({where}) is unreachable: {cause}")


def database_location() -> str:
    """Where DATABASE_URL points, without its user or password."""
    value = os.environ.get("DATABASE_URL")
    if not value:
        return "the default SQLite file"
    parts = urlsplit(value)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


if __name__ == "__main__":
    main()
