"""`manage.py ledger_check`: verify the ledger; exits 1 when an invariant is broken."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.wallet.reconciliation import ledger_check


class Command(BaseCommand):
    """Every balance is the sum of its entries, every transaction sums to zero, all balances
    sum to zero and no wallet is negative."""

    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        """Print the result; fail (exit 1) with the offending ids."""
        report = ledger_check()
        if not report.ok:
            raise CommandError("Ledger check failed:\n  " + "\n  ".join(report.problems()))
        self.stdout.write(
            self.style.SUCCESS(
                f"Ledger OK: {report.accounts} accounts, {report.transactions} transactions, "
                f"balances sum to {report.total}."
            )
        )
