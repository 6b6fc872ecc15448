"""The custom user: email login, UUID key (via BaseModel), name, encrypted phone."""

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from apps.core.models import BaseModel, SoftDeleteManager
from apps.core.models.fields import EncryptedTextField


def normalize_email(email: str) -> str:
    """Emails are stored and compared lower-cased and trimmed."""
    return email.strip().lower()


class UserManager(SoftDeleteManager["User"], BaseUserManager["User"]):
    """Creates users and superusers; hides soft-deleted users like every default manager."""

    def get_by_natural_key(self, username: str | None) -> "User":
        """Look a user up by email, case-insensitively (emails are stored lower-cased)."""
        return self.get(email=normalize_email(username or ""))

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        """A regular user; the password is hashed (None makes it unusable)."""
        if not email:
            raise ValueError("Users must have an email address.")
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        """A staff superuser."""
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(BaseModel, AbstractBaseUser, PermissionsMixin):
    """A person who signs in with email and password; roles are assigned through RBAC."""

    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=150, blank=True)
    phone = EncryptedTextField(blank=True, default="")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Tokens carry the generation they were issued in; revoking all of a user's tokens
    # (password set, reset) moves it on, in the database (apps.core.platform.revocation).
    token_generation = models.PositiveIntegerField(default=0, editable=False)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["name"]

    class Meta(BaseModel.Meta):
        verbose_name = "user"
        verbose_name_plural = "users"
        ordering: ClassVar[list[str]] = ["email"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                Lower("email"),
                condition=models.Q(is_deleted=False),
                name="accounts_user_email_unique_live",
                violation_error_message="A user with this email already exists.",
            ),
        ]

    def __str__(self) -> str:
        """The email identifies a user in admin and audit."""
        return self.email

    def clean(self) -> None:
        """Normalise the email before validation."""
        super().clean()
        self.email = normalize_email(self.email)
