"""Access-token revocation: every token of a user at once (durable), or one token (cached).

Access tokens are stateless JWTs; two records make them revocable before they expire:
- every token of a user: tokens carry the `gen` claim, the user's `token_generation` when they
  were issued, and revoking moves the generation on with one UPDATE in the database. The check
  reads the user row the authentication loads anyway: no extra query, nothing lost when Redis
  restarts, and no one-second window (a token minted a moment before a password change is
  refused, the fresh pair handed back after it is not);
- one token, by its `jti` (logout revokes the caller's access token until its expiry): a row
  in the database, fronted by the `default` cache (a hit costs one cache read; a miss, or a
  Redis outage, one indexed query), so a Redis restart revives nothing and an outage refuses
  nobody.
HTTP (TracedJWTAuthentication) and WebSockets (JWTAuthMiddleware) both check them. The user
model must have a `token_generation` integer field.
"""

import time
import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Exists, F, QuerySet
from django.utils import timezone

from apps.core.models.tokens import RevokedAccessToken
from apps.core.platform.ws.sessions import sessions_revoke_on_commit

GENERATION_CLAIM = "gen"
REVOKED_ANNOTATION = "access_token_revoked"
NOT_REVOKED_CACHE_SECONDS = 10


class Claims(Protocol):
    """A token's claims (simplejwt's tokens, or a dict)."""

    def get(self, key: str, default: Any = None) -> Any:
        """The claim's value, or `default`."""


def _jti_key(jti: str) -> str:
    """The cache key of one token's revocation state."""
    return f"revoked:jti:{jti}"


def _seconds_left(expires_at: int) -> int:
    """Seconds until a token expiring at `expires_at` (a Unix time) expires; at least 1."""
    return max(1, int(expires_at - time.time()))


def access_token_revoke(
    *, jti: str, expires_at: int, user_id: uuid.UUID | str | None = None
) -> None:
    """Refuse this access token from now until it expires (durably); the user's open sockets
    authenticated with it close."""
    RevokedAccessToken.objects.get_or_create(  # a second logout of it changes nothing
        jti=jti, defaults={"expires_at": datetime.fromtimestamp(expires_at, tz=UTC)}
    )
    cache.set(_jti_key(jti), True, timeout=_seconds_left(expires_at))
    if user_id is not None:
        sessions_revoke_on_commit(user_id, jti)


def revoked_access_tokens_purge() -> int:
    """Forget revocations of tokens that have expired anyway; answers how many."""
    expired: Any = RevokedAccessToken.all_objects.filter(expires_at__lt=timezone.now())
    count, _ = expired.hard_delete()
    return int(count)


def user_access_tokens_revoke(*, user_id: uuid.UUID | str) -> int:
    """Refuse every token the user holds now; answers the user's new generation (the claim of
    the tokens issued from now on)."""
    users: Any = get_user_model().all_objects
    users.filter(pk=user_id).update(token_generation=F("token_generation") + 1)
    sessions_revoke_on_commit(user_id)
    return int(users.filter(pk=user_id).values_list("token_generation", flat=True).get())


def token_generation_claim(user: Any) -> dict[str, int]:
    """The claim a token issued to `user` now carries."""
    return {GENERATION_CLAIM: int(getattr(user, "token_generation", 0))}


def users_with_revocation(users: QuerySet[Any], *, jti: str | None) -> QuerySet[Any]:
    """`users` annotated with whether the access token `jti` is revoked: the check rides on
    the query that loads the user (an indexed EXISTS), with no query or cache read of its own."""
    if not jti:
        return users
    return users.annotate(
        **{REVOKED_ANNOTATION: Exists(RevokedAccessToken.objects.filter(jti=jti))}
    )


def access_token_is_revoked(*, token: Claims, user: Any) -> bool:
    """True when all the user's tokens of the token's generation were revoked, or this one
    (read from the user's `users_with_revocation` annotation when it was loaded so)."""
    if int(token.get(GENERATION_CLAIM, 0)) != int(getattr(user, "token_generation", 0)):
        return True
    jti = token.get("jti")
    if not jti:
        return False
    loaded = getattr(user, REVOKED_ANNOTATION, None)
    if loaded is not None:
        return bool(loaded)
    known = cache.get(_jti_key(jti))
    if known is not None:
        return bool(known)
    revoked = RevokedAccessToken.objects.filter(jti=jti).exists()
    # `add`: a revocation written meanwhile (with `set`) is never overwritten by this answer.
    # "Not revoked" is kept briefly only: should a logout's cache write be lost (a Redis
    # timeout), the database answers again within NOT_REVOKED_CACHE_SECONDS.
    seconds = _seconds_left(int(token.get("exp", 0)))
    timeout = seconds if revoked else min(seconds, NOT_REVOKED_CACHE_SECONDS)
    cache.add(_jti_key(jti), revoked, timeout=timeout)
    return revoked
