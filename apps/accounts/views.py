"""Accounts endpoints: HTTP only; each calls one service and answers with the envelope."""

from typing import Any, cast

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
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

    @extend_schema(tags=TAGS, request=RegisterSerializer, responses={201: UserSerializer})
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
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A new pair; the refresh token sent is revoked and refused afterwards."""
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = services.auth_token_refresh(refresh=serializer.validated_data["refresh"])
        return self.send_response(pair.as_dict())


class LogoutAPIView(AppAPIView):
    """Revoke a refresh token of the caller."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(tags=TAGS, request=RefreshSerializer, responses={200: NO_CONTENT})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Log out this session: its refresh token can no longer be used."""
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.auth_logout(
            user=caller(request), refresh=serializer.validated_data["refresh"], access=request.auth
        )
        return self.send_response(None, message=LOGGED_OUT_MESSAGE)


class MeAPIView(AppAPIView):
    """The caller's own profile."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(tags=TAGS, responses={200: UserSerializer})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The signed-in user."""
        return self.send_response(UserSerializer(caller(request)).data)

    @extend_schema(tags=TAGS, request=ProfileUpdateSerializer, responses={200: UserSerializer})
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
        tags=TAGS, request=PasswordChangeSerializer, responses={200: TokenPairSerializer}
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

    @extend_schema(tags=TAGS, request=PasswordResetSerializer, responses={202: NO_CONTENT})
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

    @extend_schema(tags=TAGS, request=PasswordResetConfirmSerializer, responses={200: NO_CONTENT})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Reset the password; every session of the account is revoked."""
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_password_reset_confirm(**serializer.validated_data)
        return self.send_response(None, message=RESET_DONE_MESSAGE)
