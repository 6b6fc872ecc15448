"""Password validation shared by registration, password change and reset."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from apps.accounts.models import User


def run_password_validators(password: str, *, user: User | None, attr: str) -> None:
    """Django's password validators; each failure is reported on `attr` with its own code."""
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        details = [
            serializers.ErrorDetail(error.messages[0], code=error.code or "invalid")
            for error in exc.error_list
        ]
        raise serializers.ValidationError({attr: details}) from exc
