"""Access-token revocation: every token of a user at once (durable), or one token (cached).

Access tokens are stateless JWTs; two records make them revocable before they expire:
- every token of a user: tokens carry the `gen` claim, the user's `token_generation` when they
  were issued, and revoking moves the generation on with one UPDATE in the database. The check
  reads the user row the authentication loads anyway: no extra query, nothing lost when Redis
  restarts, and no one-second window (a token minted a moment before a password change is
  refused, the fresh pair handed back after it is not);
- one token, by its `jti` (logout revokes the caller's access token until its expiry), on the
  fail-closed `guard` cache.
HTTP (TracedJWTAuthentication) and WebSockets (JWTAuthMiddleware) both check them. The user
model must have a `token_generation` integer field.
"""

import time
import uuid
from typing import Any, Protocol

from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db.models import F

GENERATION_CLAIM = "gen"


class Claims(Protocol):
    """A token's claims (simplejwt's tokens, or a dict)."""

    def get(self, key: str, default: Any = None) -> Any:
        """The claim's value, or `default`."""


def _guard() -> Any:
    """The fail-closed cache: when it is down, the check raises and the request is refused."""
    return caches["guard"]


def access_token_revoke(*, jti: str, expires_at: int) -> None:
    """Refuse this access token from now until it expires."""
    _guard().set(f"revoked:jti:{jti}", 1, timeout=max(1, int(expires_at - time.time())))


def user_access_tokens_revoke(*, user_id: uuid.UUID | str) -> int:
    """Refuse every token the user holds now; answers the user's new generation (the claim of
    the tokens issued from now on)."""
    users: Any = get_user_model().all_objects
    users.filter(pk=user_id).update(token_generation=F("token_generation") + 1)
    return int(users.filter(pk=user_id).values_list("token_generation", flat=True).get())


def token_generation_claim(user: Any) -> dict[str, int]:
    """The claim a token issued to `user` now carries."""
    return {GENERATION_CLAIM: int(getattr(user, "token_generation", 0))}


def access_token_is_revoked(*, token: Claims, user: Any) -> bool:
    """True when all the user's tokens of the token's generation were revoked, or this one."""
    if int(token.get(GENERATION_CLAIM, 0)) != int(getattr(user, "token_generation", 0)):
        return True
    jti = token.get("jti")
    return bool(jti and _guard().get(f"revoked:jti:{jti}"))
