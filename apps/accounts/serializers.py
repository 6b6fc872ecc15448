"""Request and response serializers of the accounts endpoints."""

from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

from apps.accounts.models import User, normalize_email
from apps.accounts.validators import run_password_validators
from apps.core.http.serializers import AppModelSerializer, AppSerializer
from apps.core.rbac.selectors import user_role_codes

PHONE_MESSAGE = "Enter the phone number in international format, e.g. +14155550123."
phone_validator = RegexValidator(r"^\+[1-9]\d{6,14}$", PHONE_MESSAGE, code="invalid")
# What a user shows or holds that no auth payload sets: sent, each is a 400 `read_only`.
USER_READ_ONLY_FIELDS = (
    "id",
    "email",
    "roles",
    "date_joined",
    "is_active",
    "is_staff",
    "is_superuser",
    "last_login",
    "token_generation",
)


class UserSerializer(AppModelSerializer):
    """The user as clients see it: no password hash, token or internal flag."""

    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ("id", "email", "name", "phone", "roles", "date_joined")
        read_only_fields = fields

    def get_roles(self, user: User) -> list[str]:
        """Codes of the user's live roles."""
        return user_role_codes(user=user)


class AccountsPayload(AppSerializer):
    """An auth endpoint's input: a key it does not take is refused (400 `read_only` for what
    a user has but may not set, `unknown_field` for anything else), never ignored."""

    refused_fields = USER_READ_ONLY_FIELDS
    refuse_unknown_fields = True


class RegisterSerializer(AccountsPayload):
    """Sign-up payload: email, password (Django's validators apply) and name."""

    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)
    name = serializers.CharField(max_length=150)

    def validate_email(self, value: str) -> str:
        """Emails are compared lower-cased."""
        return normalize_email(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Run the password validators against the would-be user."""
        candidate = User(email=attrs["email"], name=attrs["name"])
        run_password_validators(attrs["password"], user=candidate, attr="password")
        return attrs


class LoginSerializer(AccountsPayload):
    """Login payload."""

    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)


class TokenPairSerializer(AppSerializer):
    """A JWT access token and its refresh token."""

    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshSerializer(AccountsPayload):
    """A refresh token to rotate or revoke."""

    refresh = serializers.CharField(max_length=2048)


class ProfileUpdateSerializer(AccountsPayload):
    """Fields a user may change on their own profile."""

    name = serializers.CharField(max_length=150, required=False)
    phone = serializers.CharField(
        max_length=16, required=False, allow_blank=True, validators=[phone_validator]
    )


class PasswordChangeSerializer(AccountsPayload):
    """Current password and the new one."""

    old_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The new password must pass Django's validators for this user."""
        user = self.context["request"].user
        run_password_validators(attrs["new_password"], user=user, attr="new_password")
        return attrs


class PasswordResetSerializer(AccountsPayload):
    """The email to send a reset link to."""

    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmSerializer(AccountsPayload):
    """The uid and token from the reset link, and the new password."""

    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)
