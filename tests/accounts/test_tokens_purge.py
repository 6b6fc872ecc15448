"""Issue 15: the beat task that removes the records of expired refresh tokens."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.accounts.tasks import tokens_expired_purge_task
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _token(user: object, jti: str, expires_in: timedelta, *, blacklisted: bool) -> None:
    """An outstanding refresh-token record (blacklisted or not) expiring `expires_in` from now."""
    now = timezone.now()
    token = OutstandingToken.objects.create(
        user=user, jti=jti, token=f"token-{jti}", created_at=now, expires_at=now + expires_in
    )
    if blacklisted:
        BlacklistedToken.objects.create(token=token)


def test_expired_records_go_and_live_ones_stay() -> None:
    user = UserFactory()
    _token(user, "expired", timedelta(seconds=-1), blacklisted=False)
    _token(user, "expired-blacklisted", timedelta(days=-3), blacklisted=True)
    _token(user, "live", timedelta(days=1), blacklisted=False)
    _token(user, "live-blacklisted", timedelta(days=1), blacklisted=True)

    assert tokens_expired_purge_task.delay().get() == 2

    assert set(OutstandingToken.objects.values_list("jti", flat=True)) == {
        "live",
        "live-blacklisted",
    }
    assert list(BlacklistedToken.objects.values_list("token__jti", flat=True)) == [
        "live-blacklisted"
    ]
    assert tokens_expired_purge_task.delay().get() == 0  # safe to run twice


def test_the_purge_runs_in_batches_until_nothing_is_left() -> None:
    from apps.accounts.services import tokens_expired_purge

    user = UserFactory()
    for index in range(5):
        _token(user, f"old-{index}", timedelta(hours=-1), blacklisted=index % 2 == 0)
    assert tokens_expired_purge(batch_size=2) == 5
    assert not OutstandingToken.objects.exists()
    assert not BlacklistedToken.objects.exists()


def test_beat_runs_it_daily() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["accounts.tokens_expired_purge"]
    assert entry == {"task": "accounts.tokens_expired_purge", "schedule": 24 * 3600.0}
