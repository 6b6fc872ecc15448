"""The fake payment provider: a real adapter whose provider side runs inside this app.

`create_checkout` opens a FakePayment (the provider's own record) and returns the URL of a
checkout page served by the app (apps.wallet.providers.pages). Confirming or declining there
sends the signed webhook to the wallet's webhook URL over HTTP, exactly as a real provider
does: from a Celery task with retries when a broker is configured; with eager Celery (the
embedded default) from a short-lived thread, because a request must not call its own server
and wait for it. `payment_status` answers re-checks from the same record.

Development and demos only: production settings refuse it unless PAYMENT_ALLOW_FAKE is set.
"""

import json
import secrets
import threading
import time
from decimal import Decimal

import requests
import structlog
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.core.platform.tasks import dispatch_on_commit
from apps.wallet.models import FakePayment, FakePaymentStatus
from apps.wallet.providers.base import (
    Checkout,
    PaymentProvider,
    ProviderPayment,
    ProviderPaymentStatus,
)
from apps.wallet.providers.signing import SIGNATURE_HEADER, body_sign

logger = structlog.get_logger(__name__)

DELIVERY_TIMEOUT_SECONDS = 10
THREAD_DELIVERY_ATTEMPTS = 3
PAYMENT_STATUSES = {
    FakePaymentStatus.OPEN: ProviderPaymentStatus.PENDING,
    FakePaymentStatus.PAID: ProviderPaymentStatus.SUCCEEDED,
    FakePaymentStatus.DECLINED: ProviderPaymentStatus.FAILED,
}
EVENT_TYPES = {
    FakePaymentStatus.PAID: "payment.succeeded",
    FakePaymentStatus.DECLINED: "payment.failed",
}


class FakeProvider(PaymentProvider):
    """Checkout pages and signed webhooks served by the app itself."""

    def create_checkout(
        self, *, top_up_id: str, amount: Decimal, currency: str, webhook_url: str
    ) -> Checkout:
        """Open a fake payment; its page is `<PUBLIC_BASE_URL>/payments/fake/<reference>/`."""
        reference = f"fake_{secrets.token_urlsafe(18)}"
        FakePayment.objects.create(
            reference=reference, amount=amount, currency=currency, webhook_url=webhook_url
        )
        path = reverse("wallet-fake-checkout", kwargs={"reference": reference})
        return Checkout(reference=reference, url=f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}")

    def payment_status(self, *, reference: str) -> ProviderPayment:
        """The fake payment's state (an unknown reference counts as failed)."""
        payment = FakePayment.objects.filter(reference=reference).first()
        if payment is None:
            return ProviderPayment(reference, ProviderPaymentStatus.FAILED, Decimal(0), "")
        return ProviderPayment(
            reference=reference,
            status=PAYMENT_STATUSES[FakePaymentStatus(payment.status)],
            amount=payment.amount,
            currency=payment.currency,
        )

    def cancel_checkout(self, *, reference: str) -> None:
        """Decline the payment if it is still open (a paid one stays paid)."""
        FakePayment.objects.filter(reference=reference, status=FakePaymentStatus.OPEN).update(
            status=FakePaymentStatus.DECLINED, updated_at=timezone.now()
        )


def fake_payment_get(*, reference: str) -> FakePayment | None:
    """The fake payment behind a checkout page, if there is one."""
    return FakePayment.objects.filter(reference=reference).first()


def fake_event_body(*, payment: FakePayment, event_id: str | None = None) -> bytes:
    """The webhook body announcing a decided payment (what the provider signs and sends)."""
    event = {
        "id": event_id or f"evt_{secrets.token_hex(12)}",
        "type": EVENT_TYPES[FakePaymentStatus(payment.status)],
        "created": int(time.time()),
        "data": {
            "reference": payment.reference,
            "amount": str(payment.amount),
            "currency": payment.currency,
        },
    }
    return json.dumps(event, separators=(",", ":"), sort_keys=True).encode()


def fake_payment_decide(*, reference: str, paid: bool) -> FakePayment | None:
    """The payer confirms or declines: the payment is decided once, then its webhook is sent
    after commit. Deciding again changes nothing and sends nothing."""
    target = FakePaymentStatus.PAID if paid else FakePaymentStatus.DECLINED
    with transaction.atomic():
        decided = FakePayment.objects.filter(
            reference=reference, status=FakePaymentStatus.OPEN
        ).update(status=target, updated_at=timezone.now())
        payment = fake_payment_get(reference=reference)
        if decided and payment is not None:
            fake_webhook_schedule(url=payment.webhook_url, body=fake_event_body(payment=payment))
    return payment


def fake_webhook_schedule(*, url: str, body: bytes) -> None:
    """Send the webhook once the current transaction commits: a Celery task (retried), or a
    thread when Celery runs eagerly inside this request."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        start = threading.Thread(
            target=_deliver_with_retries, args=(url, body), name="fake-webhook", daemon=True
        ).start
        transaction.on_commit(start, robust=True)
        return
    from apps.wallet.tasks import fake_webhook_deliver  # the task calls fake_webhook_post

    dispatch_on_commit(fake_webhook_deliver, url, body.decode())


def fake_webhook_post(*, url: str, body: bytes) -> int:
    """POST the signed body; the status code. Network errors, 5xx and 429 raise
    ConnectionError (a task retries those); any other 4xx is the receiver's final word."""
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: body_sign(body, settings.PAYMENT_WEBHOOK_SECRET),
    }
    try:
        response = requests.post(url, data=body, headers=headers, timeout=DELIVERY_TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise ConnectionError(f"webhook delivery to {url} failed: {exc}") from exc
    if response.status_code >= 500 or response.status_code == 429:  # noqa: PLR2004 - later
        raise ConnectionError(f"webhook delivery to {url} answered {response.status_code}")
    logger.info("fake_webhook_delivered", url=url, status=response.status_code)
    return response.status_code


def _deliver_with_retries(url: str, body: bytes) -> None:
    """The thread's delivery: a few tries a second apart, then the re-check task's turn."""
    for attempt in range(1, THREAD_DELIVERY_ATTEMPTS + 1):
        try:
            fake_webhook_post(url=url, body=body)
            return
        except ConnectionError as exc:
            logger.warning("fake_webhook_failed", url=url, attempt=attempt, error=str(exc))
            threading.Event().wait(attempt)
