"""Account reads other apps may use."""

from apps.accounts.models import User, normalize_email


def user_active_by_email(*, email: str) -> User | None:
    """The active, not deleted user with this email (normalized as sign-up does), if any."""
    return User.objects.filter(email=normalize_email(email), is_active=True).first()
