"""Access-token revocation, kept on the fail-closed `guard` cache.

Access tokens are stateless JWTs; these two records make them revocable before they expire:
- one token, by its `jti` (logout revokes the caller's access token until its expiry);
- every token of a user issued before a moment (password change or reset).
HTTP (TracedJWTAuthentication) and WebSockets (JWTAuthMiddleware) both check them.
"""

import time
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import caches


def _guard() -> Any:
    """The fail-closed cache: when it is down, the check raises and the request is refused."""
    return caches["guard"]


def _lifetime() -> int:
    """Seconds an access token lives (a record need not outlive the tokens it refuses)."""
    return int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()) + 60


def access_token_revoke(*, jti: str, expires_at: int) -> None:
    """Refuse this access token from now until it expires."""
    _guard().set(f"revoked:jti:{jti}", 1, timeout=max(1, int(expires_at - time.time())))


def user_access_tokens_revoke(*, user_id: uuid.UUID | str) -> None:
    """Refuse every access token the user was issued before this second.

    JWT `iat` has one-second resolution: tokens issued earlier in this same second stay
    valid (so does the fresh pair a password change hands back).
    """
    _guard().set(f"revoked:before:{user_id}", int(time.time()), timeout=_lifetime())


def access_token_is_revoked(
    *, jti: str | None, user_id: uuid.UUID | str, issued_at: int | None
) -> bool:
    """True when the token or all the user's older tokens were revoked."""
    found = _guard().get_many([f"revoked:jti:{jti}", f"revoked:before:{user_id}"])
    if found.get(f"revoked:jti:{jti}"):
        return True
    before = found.get(f"revoked:before:{user_id}")
    return bool(before and issued_at is not None and issued_at < before)
