"""Authentication classes: simplejwt's, binding the user id to the request's log lines."""

from typing import Any

import structlog
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from apps.core.platform.revocation import access_token_is_revoked

INVALID_ACCESS_TOKEN_MESSAGE = "Access token is invalid or expired."  # noqa: S105 - a message
REVOKED_ACCESS_TOKEN_MESSAGE = "Access token has been revoked."  # noqa: S105 - a message


class TracedJWTAuthentication(JWTAuthentication):
    """JWT bearer authentication that adds `user_id` to every later log line of the request."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        """Authenticate as simplejwt does, then bind the user id to the log context.

        simplejwt's nested error detail becomes one `authentication_failed` error.
        """
        try:
            result = super().authenticate(request)
        except InvalidToken as exc:
            raise AuthenticationFailed(INVALID_ACCESS_TOKEN_MESSAGE) from exc
        except AuthenticationFailed as exc:
            if isinstance(exc.detail, dict):  # simplejwt's {"detail", "code"} shape
                raise AuthenticationFailed(str(exc.detail.get("detail", ""))) from exc
            raise
        if result is None:
            return None
        user, token = result
        if access_token_is_revoked(token=token, user=user):
            raise AuthenticationFailed(REVOKED_ACCESS_TOKEN_MESSAGE)
        structlog.contextvars.bind_contextvars(user_id=str(user.pk))
        return result
