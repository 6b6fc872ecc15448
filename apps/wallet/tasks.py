"""Background tasks of the wallet: top-up re-checks and expiry, the daily ledger check, and
the fake provider's webhook delivery."""

import structlog
from django.conf import settings

from config.celery import app

logger = structlog.get_logger(__name__)


@app.task(name="wallet.top_up_recheck")
def top_up_recheck_task(top_up_id: str) -> str:
    """Ask the provider about one pending top-up and apply its answer (retried with backoff
    on network errors by the base task)."""
    from apps.wallet.services import top_up_recheck  # services import the providers

    return top_up_recheck(top_up_id=top_up_id)


@app.task(name="wallet.top_ups_recheck")
def top_ups_recheck_task() -> int:
    """Beat: queue a re-check of every top-up pending past TOP_UP_RECHECK_AFTER_SECONDS."""
    from datetime import timedelta

    from apps.wallet.services import top_ups_pending_stale

    stale = top_ups_pending_stale(
        older_than=timedelta(seconds=settings.TOP_UP_RECHECK_AFTER_SECONDS)
    )
    for top_up_id in stale:
        top_up_recheck_task.delay(top_up_id)
    return len(stale)


@app.task(name="wallet.top_ups_expire")
def top_ups_expire_task() -> int:
    """Beat: fail top-ups pending longer than TOP_UP_EXPIRY_HOURS."""
    from apps.wallet.services import top_ups_expire

    return top_ups_expire()


@app.task(name="wallet.ledger_check")
def ledger_check_task() -> bool:
    """Beat, daily: check the ledger's invariants; a failure is an error log and a Sentry
    event naming the offending ids."""
    from apps.wallet.reconciliation import ledger_check

    return ledger_check().ok


@app.task(name="wallet.fake_webhook_deliver", max_retries=8)
def fake_webhook_deliver(url: str, body: str) -> int:
    """The fake provider sends a signed webhook (network errors and 5xx are retried)."""
    from apps.wallet.providers.fake import fake_webhook_post

    return fake_webhook_post(url=url, body=body.encode())
