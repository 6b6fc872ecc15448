"""The payment provider interface: what the wallet asks of any provider.

An adapter creates a checkout for a top-up (`create_checkout`), proves that a webhook comes
from the provider and reads its event (`verify_webhook`), and answers what became of a payment
(`payment_status`, for re-checks when a webhook is late or lost). Events share one JSON shape:

    {"id": "evt_…", "type": "payment.succeeded" | "payment.failed", "created": <unix time>,
     "data": {"reference": "…", "amount": "50.00", "currency": "USD"}}

signed as apps.wallet.providers.signing says; an adapter for a provider with another format
overrides `verify_webhook`.
"""

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from django.conf import settings
from rest_framework.exceptions import ValidationError

from apps.core.exceptions import WebhookRejected
from apps.wallet.providers.signing import SIGNATURE_HEADER, body_signature_valid

EXPIRED_MESSAGE = "The webhook timestamp is outside the accepted window."
MALFORMED_MESSAGE = "The webhook body is not a payment event."


class ProviderPaymentStatus(StrEnum):
    """What a provider says about a payment."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


EVENT_STATUSES = {
    "payment.succeeded": ProviderPaymentStatus.SUCCEEDED,
    "payment.failed": ProviderPaymentStatus.FAILED,
}


@dataclass(frozen=True)
class Checkout:
    """Where the user pays: the provider's reference for the payment and its page."""

    reference: str
    url: str


@dataclass(frozen=True)
class ProviderPayment:
    """A payment as the provider knows it."""

    reference: str
    status: ProviderPaymentStatus
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class ProviderEvent:
    """A verified webhook event about one payment."""

    event_id: str
    event_type: str
    created: int
    payment: ProviderPayment
    payload: dict[str, object]


class PaymentProvider(ABC):
    """The base adapter: HMAC-signed JSON webhooks; subclasses create checkouts, answer
    re-checks and close checkouts."""

    def __init__(self, *, name: str) -> None:
        """`name`: the provider's name in `PAYMENT_PROVIDERS` (and in webhook URLs)."""
        self.name = name

    @abstractmethod
    def create_checkout(
        self, *, top_up_id: str, amount: Decimal, currency: str, webhook_url: str
    ) -> Checkout:
        """Open a payment of `amount` at the provider; where the user goes to pay."""

    @abstractmethod
    def payment_status(self, *, reference: str) -> ProviderPayment:
        """What the provider says about the payment `reference` now."""

    @abstractmethod
    def cancel_checkout(self, *, reference: str) -> None:
        """Close an unpaid checkout so it can no longer be paid (a top-up that expired)."""

    def webhook_secret(self) -> str:
        """The secret the provider signs webhooks with."""
        return str(settings.PAYMENT_WEBHOOK_SECRET)

    def verify_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        """The event in `body`, after checking its signature (401 `invalid_signature`) and
        that its timestamp is within `PAYMENT_WEBHOOK_TOLERANCE_SECONDS` of now (401
        `webhook_expired`); a signed body that is not an event is a 400."""
        signature = headers.get(SIGNATURE_HEADER, "")
        if not body_signature_valid(body, signature, self.webhook_secret()):
            raise WebhookRejected
        event = event_parse(body)
        if abs(time.time() - event.created) > settings.PAYMENT_WEBHOOK_TOLERANCE_SECONDS:
            raise WebhookRejected(EXPIRED_MESSAGE, code="webhook_expired")
        return event


def event_parse(body: bytes) -> ProviderEvent:
    """A ProviderEvent from a signed body; 400 when it lacks a field or a field is wrong."""
    try:
        payload = json.loads(body)
        data = payload["data"]
        status = EVENT_STATUSES[payload["type"]]
        created = payload["created"]
        amount = Decimal(str(data["amount"]))
        payment = ProviderPayment(
            reference=str(data["reference"]),
            status=status,
            amount=amount,
            currency=str(data["currency"]),
        )
        event = ProviderEvent(
            event_id=str(payload["id"])[:100],
            event_type=str(payload["type"]),
            created=int(created),
            payment=payment,
            payload=payload,
        )
    except (ValueError, KeyError, TypeError, OverflowError, InvalidOperation) as exc:
        raise ValidationError({"non_field_errors": [MALFORMED_MESSAGE]}) from exc
    if isinstance(created, bool) or not amount.is_finite():
        raise ValidationError({"non_field_errors": [MALFORMED_MESSAGE]})
    return event
