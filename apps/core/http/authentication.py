"""Authentication classes: simplejwt's, binding the user id to the request's log lines."""

from typing import Any

import structlog
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import ExpiredTokenError, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from apps.core.exceptions import TokenExpired, TokenInvalid, TokenRevoked
from apps.core.platform.revocation import access_token_is_revoked, users_with_revocation

INVALID_ACCESS_TOKEN_MESSAGE = "Access token is invalid."  # noqa: S105 - a message
EXPIRED_ACCESS_TOKEN_MESSAGE = "Access token has expired; refresh it."  # noqa: S105 - a message
REVOKED_ACCESS_TOKEN_MESSAGE = "Access token has been revoked."  # noqa: S105 - a message
# simplejwt's own messages for the refusals of get_user (its msgids: its translations apply).
NO_USER_CLAIM_MESSAGE = _("Token contained no recognizable user identification")
USER_NOT_FOUND_MESSAGE = _("User not found")
USER_INACTIVE_MESSAGE = _("User is inactive")
PASSWORD_CHANGED_MESSAGE = _("The user's password has been changed.")


class TracedJWTAuthentication(JWTAuthentication):
    """JWT bearer authentication that adds `user_id` to every later log line of the request."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        """Authenticate as simplejwt does, then bind the user id to the log context.

        A client learns what to do from the code: `token_expired` (refresh it),
        `token_invalid` or `token_revoked` (log in again); a malformed header's nested detail
        from simplejwt becomes one `authentication_failed` error with its message.
        """
        try:
            result = super().authenticate(request)
        except (TokenExpired, TokenInvalid, TokenRevoked):
            raise
        except InvalidToken as exc:
            raise TokenInvalid(INVALID_ACCESS_TOKEN_MESSAGE) from exc
        except AuthenticationFailed as exc:
            if isinstance(exc.detail, dict):  # simplejwt's {"detail", "code"} shape
                raise AuthenticationFailed(str(exc.detail.get("detail", ""))) from exc
            raise
        if result is None:
            return None
        user, token = result
        if access_token_is_revoked(token=token, user=user):
            raise TokenRevoked(REVOKED_ACCESS_TOKEN_MESSAGE)
        structlog.contextvars.bind_contextvars(user_id=str(user.pk))
        return result

    def get_validated_token(self, raw_token: bytes) -> Any:
        """simplejwt's validation against each token class; an expired token is 401
        `token_expired`, anything else it refuses 401 `token_invalid`."""
        expired = False
        for token_class in jwt_settings.AUTH_TOKEN_CLASSES:
            try:
                return token_class(raw_token)
            except ExpiredTokenError:
                expired = True
            except TokenError:
                continue
        if expired:
            raise TokenExpired(EXPIRED_ACCESS_TOKEN_MESSAGE)
        raise TokenInvalid(INVALID_ACCESS_TOKEN_MESSAGE)

    def get_user(self, validated_token: Any) -> Any:
        """simplejwt's user lookup (same claim, same refusals), with the token's revocation
        read by the same query (apps.core.platform.revocation.users_with_revocation)."""
        try:
            user_id = validated_token[jwt_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise TokenInvalid(NO_USER_CLAIM_MESSAGE) from exc
        users = users_with_revocation(self.user_model.objects.all(), jti=validated_token.get("jti"))
        try:
            user = users.get(**{jwt_settings.USER_ID_FIELD: user_id})
        except self.user_model.DoesNotExist as exc:
            raise TokenInvalid(USER_NOT_FOUND_MESSAGE) from exc
        if jwt_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(USER_INACTIVE_MESSAGE, code="user_inactive")
        if jwt_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            jwt_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise TokenRevoked(PASSWORD_CHANGED_MESSAGE)
        return user
