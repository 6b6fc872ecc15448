"""Wallet test data: money moved through the real services, and signed webhook bodies."""

import json
import time
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings

from apps.accounts.models import User
from apps.wallet.models import FakePayment, FakePaymentStatus, TopUp
from apps.wallet.providers.signing import SIGNATURE_HEADER, body_sign
from apps.wallet.selectors import wallet_of
from apps.wallet.services import top_up_create, top_up_webhook_apply

FEATURE = "wallet.wallet"


def event_body(
    top_up: TopUp,
    *,
    event_id: str | None = None,
    event_type: str = "payment.succeeded",
    amount: Any = None,
    currency: str | None = None,
    created: int | None = None,
) -> bytes:
    """A provider event about `top_up`'s payment (the amount and currency it asked for)."""
    event = {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "type": event_type,
        "created": int(time.time()) if created is None else created,
        "data": {
            "reference": top_up.provider_reference,
            "amount": str(top_up.amount if amount is None else amount),
            "currency": currency or top_up.currency,
        },
    }
    return json.dumps(event).encode()


def signed(body: bytes, secret: str | None = None) -> dict[str, str]:
    """The headers of a webhook carrying `body`, signed with the secret (or another one)."""
    return {SIGNATURE_HEADER: body_sign(body, secret or settings.PAYMENT_WEBHOOK_SECRET)}


def top_up(user: User, amount: str = "100.00") -> TopUp:
    """A pending top-up of `user` at the fake provider."""
    return top_up_create(user=user, amount=Decimal(amount))


def funded(user: User, amount: str = "100.00") -> TopUp:
    """Credit `user`'s wallet with `amount` the real way: a top-up and its signed webhook."""
    pending = top_up(user, amount)
    FakePayment.objects.filter(reference=pending.provider_reference).update(
        status=FakePaymentStatus.PAID
    )
    body = event_body(pending)
    top_up_webhook_apply(provider_name="fake", body=body, headers=signed(body))
    pending.refresh_from_db()
    return pending


def balance(user: User) -> Decimal:
    """The user's wallet balance as stored."""
    return wallet_of(user_id=user.pk).balance


def idempotency_key() -> str:
    """A fresh Idempotency-Key."""
    return f"test-{uuid.uuid4()}"


def json_bytes(payload: Any) -> bytes:
    """`payload` as a JSON body."""
    return json.dumps(payload).encode()


def signed_meta(body: bytes, secret: str | None = None) -> dict[str, str]:
    """`signed()` as test-client keyword arguments (`HTTP_X_SIGNATURE`)."""
    return {
        f"HTTP_{name.upper().replace('-', '_')}": value
        for name, value in signed(body, secret).items()
    }
