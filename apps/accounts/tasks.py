"""Background tasks of the accounts app."""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from apps.accounts.models import User
from config.celery import app

# SMTP failures (OSError subclasses) are retried with AppTask's backoff and jitter.
RESET_SUBJECT = "Reset your password"


@app.task(name="accounts.password_reset_email_send", autoretry_for=(OSError,))
def password_reset_email_send(user_id: str) -> bool:
    """Email a password-reset link to a user; False when the user is gone or inactive.

    The token is generated here, inside the worker, so it never sits in the broker.
    """
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = settings.PASSWORD_RESET_URL.format(uid=uid, token=token)
    send_mail(
        RESET_SUBJECT,
        f"Hello {user.name or user.email},\n\nReset your password here: {link}\n\n"
        "If you did not ask for this, ignore this email.",
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
    )
    return True


@app.task(name="accounts.tokens_expired_purge")
def tokens_expired_purge_task() -> int:
    """Beat, daily: delete the records of expired refresh tokens (outstanding and blacklisted)."""
    from apps.accounts.services import tokens_expired_purge  # services import this module

    return tokens_expired_purge()
