"""The embedded default's own SECRET_KEY: random per checkout, never in the repository.

The first process that needs it writes a random key to a git-ignored file; every later one
(other workers, `make test`, the next `make run`) reads the same key, so tokens and encrypted
fields survive restarts. Production never gets here: it must set `SECRET_KEY` itself
(config.settings.production refuses to start otherwise, and refuses keys that start with
`django-insecure`, as these do).
"""

import contextlib
import os
import secrets
from pathlib import Path

PREFIX = "django-insecure-local-"  # never accepted by production settings


def local_secret_key(path: Path) -> str:
    """The key stored at `path`, created there on first use (safe under parallel starts)."""
    try:
        stored = path.read_text().strip()
    except FileNotFoundError:
        stored = ""
    return stored or _create(path)


def _create(path: Path) -> str:
    """Write a new random key atomically; the first writer wins, everyone reads its key. On a
    read-only file system the key lives only in this process."""
    key = PREFIX + secrets.token_urlsafe(48)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        temporary.write_text(key + "\n")
        temporary.chmod(0o600)
        with contextlib.suppress(FileExistsError):  # another process created it first
            os.link(temporary, path)  # atomic: the file appears whole or not at all
        return path.read_text().strip()
    except OSError:
        return key
    finally:
        temporary.unlink(missing_ok=True)
