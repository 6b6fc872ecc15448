"""Every accounts endpoint through the generic endpoint tests (behaviour lives beside)."""

from typing import Any

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts import views
from apps.accounts.models import User
from tests import api_cases as api
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


class TestRegisterEndpoint(api.Action):
    """Registration (anonymous, throttled)."""

    url_name = "accounts:register"
    view = views.RegisterAPIView
    success_status = 201
    invalid_payload = {"email": "nope", "password": DEFAULT_PASSWORD, "name": "A"}
    invalid_attr = "email"

    def call_payload(self) -> dict[str, Any]:
        return {"email": "fresh@example.com", "password": DEFAULT_PASSWORD, "name": "Fresh"}


class TestLoginEndpoint(api.Action):
    """Login with email and password (anonymous)."""

    url_name = "accounts:login"
    view = views.LoginAPIView
    invalid_payload = {"email": "", "password": "x"}
    invalid_attr = "email"

    def prepare(self, user: User | None) -> str:
        UserFactory(email="login@example.com")
        return self.url

    def call_payload(self) -> dict[str, Any]:
        return {"email": "login@example.com", "password": DEFAULT_PASSWORD}


class TestRefreshEndpoint(api.Action):
    """Refresh-token rotation (anonymous)."""

    url_name = "accounts:refresh"
    view = views.RefreshAPIView
    invalid_payload = {"refresh": ""}
    invalid_attr = "refresh"

    def prepare(self, user: User | None) -> str:
        self.token = str(RefreshToken.for_user(UserFactory()))
        return self.url

    def call_payload(self) -> dict[str, Any]:
        return {"refresh": self.token}


class TestLogoutEndpoint(api.Action):
    """Logout: end the session of a refresh token (no access token needed; a signed-in
    caller's refresh token must be their own)."""

    url_name = "accounts:logout"
    view = views.LogoutAPIView
    invalid_payload = {"refresh": 12}
    invalid_attr = "refresh"

    def caller(self) -> User:
        self.user = UserFactory()
        return self.user

    def call_payload(self) -> dict[str, Any]:
        return {"refresh": str(RefreshToken.for_user(self.user))}

    def prepare(self, user: User | None) -> str:
        self.user = user if user is not None else UserFactory()
        return self.url


class TestMeEndpoint(api.Retrieve, api.Update):
    """The caller's own profile: any signed-in user, no id in the URL."""

    url_name = "accounts:me"
    view = views.MeAPIView
    model = User
    update_payload = {"name": "Renamed", "phone": "+14155550123"}
    update_invalid_payload = {"phone": "123"}
    update_invalid_attr = "phone"

    def make(self, owner: Any) -> User:
        return owner if owner is not None else UserFactory()

    def test_update_changes_the_object_and_writes_an_audit_row(self) -> None:
        super().test_update_changes_the_object_and_writes_an_audit_row()
        row = api.AuditLog.objects.get(action="update", model="accounts.user")
        assert row.changes["phone"] == ["[REDACTED]", "[REDACTED]"]
        assert "+14155550123" not in str(row.changes)


class TestPasswordChangeEndpoint(api.Action):
    """Password change by the signed-in caller."""

    url_name = "accounts:password-change"
    view = views.PasswordChangeAPIView
    invalid_payload = {"old_password": DEFAULT_PASSWORD, "new_password": "1"}
    invalid_attr = "new_password"

    def call_payload(self) -> dict[str, Any]:
        return {"old_password": DEFAULT_PASSWORD, "new_password": "An0ther-Str0ng-One!"}


class TestPasswordResetEndpoint(api.Action):
    """Password-reset request (anonymous, same answer either way)."""

    url_name = "accounts:password-reset"
    view = views.PasswordResetAPIView
    success_status = 202
    invalid_payload = {"email": "not-an-email"}
    invalid_attr = "email"

    def call_payload(self) -> dict[str, Any]:
        return {"email": "someone@example.com"}


class TestPasswordResetConfirmEndpoint(api.Action):
    """Password-reset confirmation with uid and token (anonymous)."""

    url_name = "accounts:password-reset-confirm"
    view = views.PasswordResetConfirmAPIView
    invalid_payload = {"uid": "x", "token": "y"}
    invalid_attr = "new_password"

    def call_payload(self) -> dict[str, Any]:
        from django.contrib.auth.tokens import default_token_generator
        from django.utils.encoding import force_bytes
        from django.utils.http import urlsafe_base64_encode

        user = UserFactory()
        return {
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
            "new_password": "An0ther-Str0ng-One!",
        }
