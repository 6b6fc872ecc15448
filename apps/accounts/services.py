"""Account services: every write of the accounts app (registration, tokens, passwords)."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from rest_framework import exceptions
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.models import User, normalize_email
from apps.accounts.tasks import password_reset_email_send
from apps.accounts.tokens import (
    PresentedRefreshToken,
    refresh_token_reuse_revoke,
    token_family,
    token_family_revoke,
    token_pair_issue,
)
from apps.accounts.validators import run_password_validators
from apps.core.exceptions import TokenExpired, TokenInvalid, TokenRevoked
from apps.core.models.audit import AuditAction
from apps.core.models.rbac import Role
from apps.core.platform.revocation import (
    GENERATION_CLAIM,
    access_token_revoke,
    token_generation_claim,
    user_access_tokens_revoke,
)
from apps.core.platform.tasks import dispatch_on_commit
from apps.core.rbac.services import user_roles_set
from apps.core.records.changes import Change, model_changed_send, snapshot
from apps.core.records.services import object_update

EMAIL_TAKEN_MESSAGE = "A user with this email already exists."
INVALID_CREDENTIALS_MESSAGE = "No active account found with the given credentials."
INVALID_REFRESH_MESSAGE = "Refresh token is invalid, expired or revoked."
WRONG_PASSWORD_MESSAGE = "The current password is incorrect."  # noqa: S105 - a message
INVALID_RESET_LINK_MESSAGE = "The reset link is invalid or has expired."


@dataclass(frozen=True)
class TokenPair:
    """A fresh access token and the refresh token that renews it."""

    access: str
    refresh: str

    def as_dict(self) -> dict[str, str]:
        """The pair as the API returns it."""
        return {"access": self.access, "refresh": self.refresh}


def _issue_tokens(user: User, family: str | None = None) -> TokenPair:
    """A new refresh token (recorded as outstanding) of `family` (None: a new one, a login)
    and the access token paired with it (apps.accounts.tokens)."""
    refresh, access = token_pair_issue(user, family=family)
    return TokenPair(access=str(access), refresh=str(refresh))


def user_register(*, email: str, password: str, name: str) -> User:
    """Create an active user holding the default role (`REGISTRATION_DEFAULT_ROLE`, the
    seeded `customer`, when it exists); a live account with the same email is a 400 on
    `email`."""
    email = normalize_email(email)
    if User.objects.filter(email=email).exists():
        raise exceptions.ValidationError({"email": [EMAIL_TAKEN_MESSAGE]}, code="unique")
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, name=name)
            model_changed_send(model=User, action=AuditAction.CREATE, changes=[Change(user)])
            default_role = settings.REGISTRATION_DEFAULT_ROLE
            if default_role and Role.objects.filter(code=default_role).exists():
                user_roles_set(user=user, role_codes=[default_role])
            return user
    except IntegrityError as exc:  # a concurrent sign-up won the unique slot
        raise exceptions.ValidationError({"email": [EMAIL_TAKEN_MESSAGE]}, code="unique") from exc


def auth_login(*, email: str, password: str, http_request: HttpRequest) -> TokenPair:
    """Check the credentials and issue a token pair; same 401 for any failure.

    `http_request` is only handed to Django's `authenticate()` (the login guard needs it,
    apps.accounts.login_guard, to count failures per account and address; a locked-out login
    is answered 429 by its middleware) and to `user_logged_in`.
    """
    user = authenticate(http_request, email=normalize_email(email), password=password)
    if user is None or not user.is_active:
        raise exceptions.AuthenticationFailed(INVALID_CREDENTIALS_MESSAGE)
    # As Django's login() does: last_login, and the guard forgets this account's failures.
    user_logged_in.send(sender=User, request=http_request, user=user)
    return _issue_tokens(user)


def auth_token_refresh(*, refresh: str) -> TokenPair:
    """Rotate a refresh token: the old one is revoked, a new pair of its family is issued.

    The user's row is locked first, so rotations, logouts and password changes of one user
    happen one after the other: of two concurrent refreshes of one token, the second finds it
    revoked. A revoked token presented again (a rotated one: it was copied, or two clients
    share it) revokes its whole family, newer tokens included, and is a security event
    (apps.accounts.tokens); the answer is 401 `token_revoked` either way.
    """
    token = _parse_refresh(refresh)
    with transaction.atomic():
        user = (
            User.objects.select_for_update()
            .filter(pk=token[jwt_settings.USER_ID_CLAIM], is_active=True)
            .first()
        )
        if user is None:
            raise TokenRevoked(INVALID_REFRESH_MESSAGE)
        outstanding = OutstandingToken.objects.filter(jti=token["jti"]).order_by().first()
        if outstanding is None:
            raise TokenInvalid(INVALID_REFRESH_MESSAGE)
        reused = BlacklistedToken.objects.filter(token=outstanding).exists()  # used, logged out
        if reused:
            refresh_token_reuse_revoke(user=user, token=token)
        elif token_generation_claim(user) == {
            GENERATION_CLAIM: int(token.get(GENERATION_CLAIM, 0))
        }:
            BlacklistedToken.objects.create(token=outstanding)
            return _issue_tokens(user, family=token_family(token))
    # Outside the block: the family's revocation commits with the 401.
    raise TokenRevoked(INVALID_REFRESH_MESSAGE)


def auth_logout(*, refresh: str, user: User | None = None, access: Any = None) -> None:
    """End the session of a refresh token: its family is revoked (every refresh token of
    that login and the access tokens paired with them, so the access token issued with this
    one too) and, when given, the access token of the call.

    The refresh token is the credential: no access token is needed. It is checked first (a
    bad or expired one is a 400 and revokes nothing, as is one of another user than a
    signed-in caller); logging out with an already revoked refresh token is harmless.
    """
    try:
        token = PresentedRefreshToken(refresh)  # type: ignore[arg-type]  # stubs: str is valid
    except TokenError as exc:
        raise exceptions.ValidationError({"refresh": [INVALID_REFRESH_MESSAGE]}) from exc
    owner_id = str(token.get(jwt_settings.USER_ID_CLAIM))
    if user is not None and owner_id != str(user.pk):
        raise exceptions.ValidationError({"refresh": [INVALID_REFRESH_MESSAGE]})
    with transaction.atomic():
        # The user's row lock orders this after a rotation of the same family.
        list(User.all_objects.select_for_update().filter(pk=owner_id).order_by())
        token.blacklist()
        token_family_revoke(user_id=owner_id, family=token_family(token), presented=token.payload)
    if access is not None and user is not None:
        access_token_revoke(jti=access["jti"], expires_at=int(access["exp"]), user_id=user.pk)


def user_tokens_revoke_all(*, user: User) -> int:
    """Revoke every token the user holds (after a password change or reset)."""
    user.token_generation = user_access_tokens_revoke(user_id=user.pk)
    outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
    created = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    return len(created)


def tokens_expired_purge(*, batch_size: int = 5000) -> int:
    """Delete refresh-token records (outstanding and, with them, blacklisted) whose token has
    expired: nothing can present them any more. In batches, so a large backlog never holds
    one long transaction; safe to run twice and concurrently. Answers how many were deleted."""
    deleted = 0
    while True:
        ids = list(
            OutstandingToken.objects.filter(expires_at__lte=timezone.now())
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return deleted
        with transaction.atomic():
            BlacklistedToken.objects.filter(token_id__in=ids).delete()
            count, _ = OutstandingToken.objects.filter(pk__in=ids).delete()
        deleted += count


def user_profile_update(*, user: User, data: dict[str, Any]) -> User:
    """Change the caller's own name and phone."""
    changes: dict[str, Any] = {field: data[field] for field in ("name", "phone") if field in data}
    if not changes:
        return user
    return object_update(instance=user, data=changes)


def user_password_change(
    *, user: User, old_password: str, new_password: str, http_request: HttpRequest
) -> TokenPair:
    """Set a new password, revoke every session, and return a fresh pair for this device.

    The old password is checked through `authenticate()`, so wrong guesses count toward the
    login guard's lockout like failed logins (a stolen access token is no way around it).
    """
    if authenticate(http_request, email=user.email, password=old_password) is None:
        raise exceptions.ValidationError({"old_password": [WRONG_PASSWORD_MESSAGE]})
    with transaction.atomic():
        _password_set(user, new_password)
        return _issue_tokens(user)


def user_password_reset_request(*, email: str) -> None:
    """Queue a reset email for a live, active account; silent when there is none.

    The caller gets the same answer either way, so the endpoint does not reveal accounts.
    The token is made inside the task, so it never travels through the broker.
    """
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    dispatch_on_commit(password_reset_email_send, str(user.pk))


def user_password_reset_confirm(*, uid: str, token: str, new_password: str) -> None:
    """Set the new password when the uid and token match; revoke every session."""
    try:
        user_id = force_str(urlsafe_base64_decode(uid))
        user = User.objects.get(pk=user_id, is_active=True)
    except (ValueError, TypeError, OverflowError, DjangoValidationError, User.DoesNotExist) as exc:
        raise exceptions.ValidationError({"token": [INVALID_RESET_LINK_MESSAGE]}) from exc
    if not default_token_generator.check_token(user, token):
        raise exceptions.ValidationError({"token": [INVALID_RESET_LINK_MESSAGE]})
    run_password_validators(new_password, user=user, attr="new_password")
    with transaction.atomic():
        _password_set(user, new_password)


def user_password_set(*, user: User, new_password: str | None) -> None:
    """An administrator sets a user's password (None: no password login at all), audited,
    and every token the user holds is revoked."""
    with transaction.atomic():
        _password_set(user, new_password)


def _password_set(user: User, new_password: str | None) -> None:
    """Store the new password (audited, redacted) and revoke every token the user holds."""
    before = snapshot(user)
    if new_password is None:
        user.set_unusable_password()
    else:
        user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    model_changed_send(model=User, action=AuditAction.UPDATE, changes=[Change(user, before)])
    user_tokens_revoke_all(user=user)


def _parse_refresh(refresh: str) -> RefreshToken:
    """A refresh token with a valid signature, unexpired, of the refresh type (whether it
    was revoked is the rotation's to read), or 401 `token_expired` or `token_invalid`."""
    try:
        return PresentedRefreshToken(refresh)  # type: ignore[arg-type]  # stubs: str is valid
    except ExpiredTokenError as exc:
        raise TokenExpired(INVALID_REFRESH_MESSAGE) from exc
    except TokenError as exc:
        raise TokenInvalid(INVALID_REFRESH_MESSAGE) from exc
