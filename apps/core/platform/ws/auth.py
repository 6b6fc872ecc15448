"""JWT authentication for WebSocket connections (Channels middleware).

The access token comes from the `token` query parameter or from the subprotocols
(`Sec-WebSocket-Protocol: bearer, <token>`; the server then accepts the `bearer`
subprotocol). A missing, invalid, expired or revoked token leaves the scope anonymous, and
the consumer accepts and closes with 4401 (so a browser sees the code). Tokens are never
logged.
"""

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken

from apps.core.platform.revocation import access_token_is_revoked

BEARER_SUBPROTOCOL = "bearer"


def token_from_scope(scope: dict[str, Any]) -> str | None:
    """The access token of a connection: query `token`, else the `bearer` subprotocol pair."""
    query = parse_qs(scope.get("query_string", b"").decode(errors="replace"))
    if query.get("token"):
        return query["token"][0]
    subprotocols = list(scope.get("subprotocols") or [])
    if len(subprotocols) >= 2 and subprotocols[0] == BEARER_SUBPROTOCOL:  # noqa: PLR2004
        return str(subprotocols[1])
    return None


def user_for_token(raw: str | None) -> tuple[Any, int | None, str | None]:
    """`(user, expires_at, jti)` for a valid access token of an active user, else anonymous."""
    if not raw:
        return AnonymousUser(), None, None
    try:
        token = AccessToken(raw)  # type: ignore[arg-type]  # stubs: str is valid
    except TokenError:
        return AnonymousUser(), None, None
    user = (
        get_user_model()
        .objects.filter(pk=token.get(jwt_settings.USER_ID_CLAIM), is_active=True)
        .first()
    )
    if user is None or access_token_is_revoked(token=token, user=user):
        return AnonymousUser(), None, None
    return user, int(token["exp"]), str(token.get("jti") or "")


class JWTAuthMiddleware(BaseMiddleware):
    """Puts the token's user (or AnonymousUser), its expiry and its id into the scope."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        """Authenticate WebSocket connections; other protocols pass through."""
        if scope.get("type") == "websocket":
            user, expires_at, jti = await database_sync_to_async(user_for_token)(
                token_from_scope(scope)
            )
            scope = {**scope, "user": user, "token_expires_at": expires_at, "token_jti": jti}
        return await super().__call__(scope, receive, send)
