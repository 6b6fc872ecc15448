"""App config for accounts."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """The accounts app: custom user, JWT auth, profile, password flows."""

    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        """Connect the login guard's reset to successful logins (admin and API)."""
        from django.contrib.auth.signals import user_logged_in

        from apps.accounts.login_guard import login_success_reset

        user_logged_in.connect(login_success_reset, dispatch_uid="accounts.login_success_reset")
