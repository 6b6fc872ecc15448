"""Authentication backend: email + password against live (not soft-deleted) users."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest


class EmailBackend(ModelBackend):
    """Django's ModelBackend, taking `email=` as well as `username=`.

    Email uniqueness is a UniqueConstraint conditional on not deleted (a deleted account
    frees its email), which is why Django's auth.W004 check is silenced in settings.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        email: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Authenticate by email (case-insensitive) and password."""
        return super().authenticate(request, username=email or username, password=password)
