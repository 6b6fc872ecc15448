"""Token pairs and token families: what lets a refresh token alone end a session.

- A pair: every refresh token the accounts app issues names the access token issued with it
  (`ajti`, `aexp`: its id and expiry), so the server finds that access token from the refresh
  token alone (logout without an `Authorization` header).
- A family: every refresh token descended from one login carries the family's id (`fam`, the
  jti of the login's refresh token; a token without the claim is a family of its own). A
  rotation hands the family on to the new pair.
- Revoking a family blacklists each of its refresh tokens still usable and revokes the access
  token paired with each one that may still be alive (apps.core.platform.revocation: refused
  until it expires, its open sockets closed). Logout revokes the family of the token it is
  given; presenting an already revoked refresh token to `/auth/refresh/` (a rotated one used
  again: the token was copied) revokes its family too, and is a security event (logged on
  `apps.security`, the tokens it revoked in the audit log).

The family's members are found through simplejwt's outstanding-token rows: each row holds the
token as issued (claims included), and the user's rows are few (one per rotation within the
refresh lifetime). Callers hold the user's row lock (`select_for_update`), so a rotation and a
family revocation of one user happen one after the other.
"""

from datetime import UTC, datetime
from typing import Any

import structlog
from django.db.models import Q
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.models import User
from apps.core.models.audit import AuditAction
from apps.core.platform.revocation import access_token_revoke, token_generation_claim
from apps.core.records.changes import Change, model_changed_send

FAMILY_CLAIM = "fam"
PAIRED_ACCESS_JTI_CLAIM = "ajti"
PAIRED_ACCESS_EXP_CLAIM = "aexp"
REUSE_EVENT = "refresh_token_reused"

security_logger = structlog.get_logger("apps.security")


class PresentedRefreshToken(RefreshToken):
    """A refresh token as a client presents it: signature, expiry and type checked, the
    blacklist not (the rotation reads it under the user's row lock, where a revoked token
    means reuse)."""

    def check_blacklist(self) -> None:
        """Left to the caller (see the class)."""
        return


def token_family(payload: Any) -> str:
    """The family a token belongs to: its `fam` claim, or its own jti."""
    return str(payload.get(FAMILY_CLAIM) or payload[jwt_settings.JTI_CLAIM])


def token_pair_issue(user: User, *, family: str | None = None) -> tuple[RefreshToken, Any]:
    """A new refresh token of `family` (None: a new family, a login) recorded as outstanding
    with its claims, and the access token paired with it."""
    refresh = RefreshToken.for_user(user)  # simplejwt records it as outstanding
    for claim, value in token_generation_claim(user).items():
        refresh[claim] = value  # copied into the access token
    refresh[FAMILY_CLAIM] = family or refresh[jwt_settings.JTI_CLAIM]
    access = refresh.access_token
    refresh[PAIRED_ACCESS_JTI_CLAIM] = access[jwt_settings.JTI_CLAIM]
    refresh[PAIRED_ACCESS_EXP_CLAIM] = access["exp"]
    # The row was written before the claims were set: store the token as issued.
    OutstandingToken.objects.filter(jti=refresh[jwt_settings.JTI_CLAIM]).update(token=str(refresh))
    return refresh, access


def _payload(stored: str) -> dict[str, Any] | None:
    """The claims of a token we issued and stored (no checks: it came from our database)."""
    try:
        return dict(RefreshToken(stored, verify=False).payload)  # type: ignore[arg-type]
    except TokenError:
        return None


def token_family_revoke(
    *, user_id: Any, family: str, presented: dict[str, Any] | None = None
) -> list[BlacklistedToken]:
    """Blacklist every still usable refresh token of the family and revoke the access tokens
    paired with its members that may still be alive (each until it expires; their sockets
    close). `presented`: the claims of the token that asked for it, revoked whether or not
    its row is found. Call inside a transaction holding the user's row lock; answers the
    blacklist rows it added."""
    now = timezone.now()
    may_have_live_access = now - jwt_settings.ACCESS_TOKEN_LIFETIME
    rows = (
        OutstandingToken.objects.filter(user_id=user_id, expires_at__gt=now)
        .filter(Q(blacklistedtoken__isnull=True) | Q(created_at__gte=may_have_live_access))
        .order_by()
    )
    members: dict[str, tuple[OutstandingToken | None, dict[str, Any]]] = {}
    for row in rows:
        payload = _payload(row.token)
        if payload is not None and token_family(payload) == family:
            members[row.jti] = (row, payload)
    if presented is not None:
        members.setdefault(str(presented[jwt_settings.JTI_CLAIM]), (None, presented))
    added = []
    for member, payload in members.values():
        if member is not None:
            blacklisted, created = BlacklistedToken.objects.get_or_create(token=member)
            if created:
                added.append(blacklisted)
        access_jti = payload.get(PAIRED_ACCESS_JTI_CLAIM)
        access_exp = int(payload.get(PAIRED_ACCESS_EXP_CLAIM) or 0)
        if access_jti and datetime.fromtimestamp(access_exp, tz=UTC) > now:
            access_token_revoke(jti=str(access_jti), expires_at=access_exp, user_id=user_id)
    return added


def refresh_token_reuse_revoke(*, user: User, token: RefreshToken) -> int:
    """A revoked refresh token was presented again: revoke its whole family, record the
    blacklist rows this added in the audit log and log the security event. Answers how many
    refresh tokens of the family were still usable (0: the session had already ended)."""
    family = token_family(token)
    added = token_family_revoke(user_id=user.pk, family=family)
    model_changed_send(
        model=BlacklistedToken,
        action=AuditAction.CREATE,
        changes=[Change(blacklisted) for blacklisted in added],
    )
    security_logger.warning(
        REUSE_EVENT,
        user_id=str(user.pk),
        family=family,
        jti=str(token[jwt_settings.JTI_CLAIM]),
        revoked_live=len(added),  # a key naming "token" would be redacted
    )
    return len(added)
