"""Accounts endpoints: HTTP only; each calls one service and answers with the envelope."""

import contextlib
from typing import Any, cast

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts import services
from apps.accounts.models import User
from apps.accounts.serializers import (
    LoginSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    ProfileUpdateSerializer,
    RefreshSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from apps.core.http.openapi import ErrorEnvelopeSerializer
from apps.core.http.throttles import SCOPED_THROTTLES
from apps.core.http.views import AppAPIView

TAGS = ["auth"]
LOGGED_OUT_MESSAGE = "Logged out."
PASSWORD_CHANGED_MESSAGE = "Password changed."  # noqa: S105 - a message
RESET_REQUESTED_MESSAGE = "If an account exists for this email, a reset link has been sent."
RESET_DONE_MESSAGE = "Password has been reset."
NO_CONTENT = OpenApiResponse(description="Envelope with `data: null`.")
STRICT_INPUT = (
    "Keys the endpoint does not take are refused: 400 `read_only` naming a field of the user "
    "that cannot be set here (`is_staff`, `roles`, ...), `unknown_field` anything else."
)


def caller(request: Request) -> User:
    """The signed-in user of a request that passed `IsAuthenticated`."""
    return cast(User, request.user)


class AnonymousAuthAPIView(AppAPIView):
    """Auth endpoints callable without a token, rate-limited by their `throttle_scope`."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = SCOPED_THROTTLES

    def get_authenticate_header(self, request: Request) -> str:
        """Keep failed credentials a 401 (DRF makes it 403 when a view has no authenticator)."""
        return 'Bearer realm="api"'


class RegisterAPIView(AnonymousAuthAPIView):
    """Create an account."""

    throttle_scope = "register"

    @extend_schema(
        tags=TAGS,
        request=RegisterSerializer,
        responses={201: UserSerializer},
        summary="Create an account",
        description=(
            "Creates an active account with the default role and answers the new user (log "
            "in next). 400 `unique` on `email` when a live account has it; the password must "
            "pass the password rules (400 on `password`). " + STRICT_INPUT
        ),
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Register with email, password and name; 201 with the new user."""
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(**serializer.validated_data)
        return self.send_response(
            UserSerializer(user).data, status=status.HTTP_201_CREATED, message="Registered."
        )


class LoginAPIView(AnonymousAuthAPIView):
    """Exchange email and password for a token pair."""

    throttle_scope = "login"

    @extend_schema(
        tags=TAGS,
        request=LoginSerializer,
        responses={200: TokenPairSerializer, 401: ErrorEnvelopeSerializer},
        summary="Log in with email and password",
        description=(
            "Answers a token pair: send `access` as `Authorization: Bearer <access>`, and "
            "`refresh` to `/auth/refresh/` when it expires. 401 `authentication_failed` for "
            "wrong credentials (the same answer whatever was wrong); 429 past the login rate, "
            "or while the account or the address is locked out after repeated failures."
        ),
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Log in; 401 for wrong credentials, 429 past the login rate or while the account or
        address is locked out after repeated failures."""
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = services.auth_login(**serializer.validated_data, http_request=request._request)
        return self.send_response(pair.as_dict())


class RefreshAPIView(AnonymousAuthAPIView):
    """Rotate a refresh token."""

    throttle_scope = "refresh"

    @extend_schema(
        tags=TAGS,
        request=RefreshSerializer,
        responses={200: TokenPairSerializer, 401: ErrorEnvelopeSerializer},
        summary="Exchange a refresh token for a new token pair",
        description=(
            "Answers a new `access` and `refresh`; the refresh token sent is used up. Refresh "
            "one request at a time: a refresh token sent again after it was used (a copy, or "
            "two tabs refreshing at once) is taken as stolen, and every token of that login "
            "is revoked, the newest included (401 `token_revoked`: log in again). 401 "
            "`token_expired`: the refresh token expired (log in again); `token_invalid`: it "
            "is not a refresh token of this server."
        ),
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A new pair; the refresh token sent is revoked and refused afterwards."""
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = services.auth_token_refresh(refresh=serializer.validated_data["refresh"])
        return self.send_response(pair.as_dict())


class LogoutAPIView(AppAPIView):
    """End a session with its refresh token alone."""

    permission_classes = (AllowAny,)
    throttle_classes = SCOPED_THROTTLES
    throttle_scope = "refresh"
    access_description = (  # for the schema
        "anyone holding the refresh token; an access token, when sent and valid, is revoked "
        "too (an expired or revoked one is ignored)"
    )

    def perform_authentication(self, request: Request) -> None:
        """A valid access token signs the caller in; a refused one (expired, revoked,
        malformed) leaves the caller anonymous instead of answering 401, so a client can
        always log out: the refresh token is the credential."""
        with contextlib.suppress(AuthenticationFailed):  # DRF made the request anonymous
            super().perform_authentication(request)

    @extend_schema(
        tags=TAGS,
        request=RefreshSerializer,
        responses={200: NO_CONTENT, 400: ErrorEnvelopeSerializer},
        summary="Log out with the refresh token",
        description=(
            "Ends the login the refresh token belongs to: it, every refresh token rotated "
            "from the same login and the access tokens issued with them are revoked (401 "
            "`token_revoked` from then on; open WebSockets using them close with 4401). No "
            "`Authorization` header is needed, and an expired or revoked one is ignored; a "
            "valid one is revoked too, and the refresh token must then be the same user's. "
            "400 on `refresh` for a token that is malformed, expired or of another user. "
            "Logging out twice is harmless."
        ),
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Log out: the refresh token, every token rotated from the same login and the access
        tokens issued with them are revoked (open sockets using them close). No access token
        is needed; one sent that is still valid is revoked too, and then the refresh token
        must be the same user's (400 otherwise)."""
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.auth_logout(
            refresh=serializer.validated_data["refresh"],
            user=caller(request) if request.user.is_authenticated else None,
            access=request.auth,
        )
        return self.send_response(None, message=LOGGED_OUT_MESSAGE)


class MeAPIView(AppAPIView):
    """The caller's own profile."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        tags=TAGS,
        responses={200: UserSerializer},
        summary="Read your profile",
        description="The signed-in user, with the codes of their roles.",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The signed-in user."""
        return self.send_response(UserSerializer(caller(request)).data)

    @extend_schema(
        tags=TAGS,
        request=ProfileUpdateSerializer,
        responses={200: UserSerializer},
        summary="Change your name or phone",
        description=(
            "Changes `name` and/or `phone` (international format, e.g. +14155550123; blank "
            "removes it) and answers the profile. `email`, `id`, `roles` and the other fields "
            "of the profile cannot be changed here: sent, each is a 400 `read_only` naming "
            "it; any other key is a 400 `unknown_field`."
        ),
    )
    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change name and/or phone."""
        serializer = ProfileUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_profile_update(user=caller(request), data=serializer.validated_data)
        return self.send_response(UserSerializer(user).data)


class PasswordChangeAPIView(AppAPIView):
    """Change the caller's password."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        tags=TAGS,
        request=PasswordChangeSerializer,
        responses={200: TokenPairSerializer},
        summary="Change your password",
        description=(
            "Checks `old_password` (400 on it when wrong; wrong guesses count toward the login "
            "lockout), sets `new_password` (400 on it when the password rules refuse it), "
            "revokes every token of the account (other devices are signed out) and answers a "
            "new token pair for this device."
        ),
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Every other session is revoked; the answer holds a new pair for this device."""
        serializer = PasswordChangeSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        pair = services.user_password_change(
            user=caller(request), **serializer.validated_data, http_request=request._request
        )
        return self.send_response(pair.as_dict(), message=PASSWORD_CHANGED_MESSAGE)


class PasswordResetAPIView(AnonymousAuthAPIView):
    """Ask for a password-reset email."""

    throttle_scope = "password_reset"

    @extend_schema(
        tags=TAGS,
        request=PasswordResetSerializer,
        responses={202: NO_CONTENT},
        summary="Ask for a password-reset email",
        description=(
            "Answers 202 with the same message whether or not an account has this email (so "
            "the answer reveals no account); the email carries the `uid` and `token` for "
            "`/auth/password/reset/confirm/`."
        ),
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """202 with the same message whether or not the account exists."""
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_password_reset_request(email=serializer.validated_data["email"])
        return self.send_response(
            None, status=status.HTTP_202_ACCEPTED, message=RESET_REQUESTED_MESSAGE
        )


class PasswordResetConfirmAPIView(AnonymousAuthAPIView):
    """Set a new password with the uid and token from the reset email."""

    throttle_scope = "password_reset"

    @extend_schema(
        tags=TAGS,
        request=PasswordResetConfirmSerializer,
        responses={200: NO_CONTENT},
        summary="Set a new password from a reset email",
        description=(
            "Sets `new_password` with the `uid` and `token` of the reset email and revokes "
            "every token of the account (log in with the new password). 400 on `token` when "
            "the link is invalid or expired, on `new_password` when the password rules "
            "refuse it."
        ),
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Reset the password; every session of the account is revoked."""
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_password_reset_confirm(**serializer.validated_data)
        return self.send_response(None, message=RESET_DONE_MESSAGE)
