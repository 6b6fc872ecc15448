"""App config for accounts."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """The accounts app: custom user, JWT auth, profile, password flows."""

    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"
