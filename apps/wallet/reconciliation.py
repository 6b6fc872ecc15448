"""Reconciliation: the ledger's invariants checked against the database, and reported."""

import sentry_sdk
import structlog

from apps.wallet.selectors import LedgerReport, ledger_report

logger = structlog.get_logger(__name__)


def ledger_check() -> LedgerReport:
    """Check every invariant; a broken one is logged as an error and sent to Sentry (a no-op
    unless SENTRY_DSN is set) with the offending ids. The report either way."""
    report = ledger_report()
    if report.ok:
        logger.info(
            "ledger_check_passed", accounts=report.accounts, transactions=report.transactions
        )
        return report
    problems = report.problems()
    logger.error("ledger_check_failed", problems=problems)
    sentry_sdk.capture_message("ledger_check failed: " + "; ".join(problems), level="error")
    return report
