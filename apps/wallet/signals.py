"""Receivers of the wallet app: every new user gets a wallet in the same transaction."""

from typing import Any

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from apps.wallet.services import wallet_open


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="wallet_open_for_new_user")
def wallet_open_for_new_user(
    sender: Any,  # noqa: ARG001 - the signal's signature
    instance: Any,
    created: bool,
    raw: bool,
    **kwargs: Any,
) -> None:
    """post_save of a user: open their wallet when the user is new (not for fixtures)."""
    if created and not raw:
        wallet_open(user_id=instance.pk)
