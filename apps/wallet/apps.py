"""App config of the wallet app."""

from django.apps import AppConfig


class WalletConfig(AppConfig):
    """Wallets, the ledger behind them, top-ups and transfers."""

    name = "apps.wallet"
    label = "wallet"
    verbose_name = "Wallet"

    def ready(self) -> None:
        """Connect the receivers (a wallet opened with every new user) and register the tasks
        beat schedules."""
        from apps.wallet import signals, tasks  # noqa: F401 - registers on import
