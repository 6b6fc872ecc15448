"""Model fields of the core layer: text encrypted at rest."""

from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    """A MultiFernet over the configured keys: the first encrypts, all decrypt."""
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
    return MultiFernet([Fernet(key.encode()) for key in keys])


def field_cipher() -> MultiFernet:
    """The cipher for the current settings (keys may be rotated by prepending a new one)."""
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token; plain text in Python, ciphertext in the database.

    Not searchable or orderable by value (every encryption differs). Audit logs redact it.
    """

    encrypted = True

    def get_prep_value(self, value: Any) -> Any:
        """Encrypt on the way to the database."""
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return field_cipher().encrypt(str(value).encode()).decode()

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        """Decrypt on the way back; a value no key can open is an operator error, raised."""
        if value in (None, ""):
            return value
        try:
            return field_cipher().decrypt(value.encode()).decode()
        except InvalidToken as exc:
            raise ImproperlyConfigured(
                f"{self.model.__name__}.{self.name} cannot be decrypted with "
                "FIELD_ENCRYPTION_KEYS; was a key removed?"
            ) from exc
