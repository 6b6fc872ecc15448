"""Demo wallet for `manage.py seed`: the roles' wallet access, and a topped-up demo customer.

The demo customer's top-up goes the real way: a checkout at the fake provider, paid, and its
signed webhook applied, so the ledger and `ledger_check` see an ordinary credit.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from apps.core.models import PermissionScope, Role
from apps.core.rbac.services import role_features_grant
from apps.wallet.models import FakePaymentStatus, TopUp
from apps.wallet.providers.fake import fake_event_body, fake_payment_get
from apps.wallet.providers.signing import SIGNATURE_HEADER, body_sign
from apps.wallet.services import top_up_create, top_up_webhook_apply

FEATURE_PREFIX = "wallet."
DEMO_CUSTOMER_EMAIL = "customer@example.com"
DEMO_TOP_UP = Decimal("500.00")


def seed(*, command: BaseCommand) -> None:
    """Customers and managers use their own wallet; the demo customer starts with 500.00."""
    for code in ("customer", "manager"):
        role_features_grant(
            role=Role.objects.get(code=code),
            prefix=FEATURE_PREFIX,
            write=True,
            scope=PermissionScope.OWN,
        )
    customer = get_user_model().objects.filter(email=DEMO_CUSTOMER_EMAIL).first()
    if customer is None or TopUp.objects.filter(user=customer).exists():
        command.stdout.write("Demo wallet already seeded (or no demo customer).")
        return
    if settings.PAYMENT_PROVIDER != "fake":
        command.stdout.write("Demo top-up skipped: PAYMENT_PROVIDER is not the fake provider.")
        return
    top_up = top_up_create(user=customer, amount=DEMO_TOP_UP)
    payment = fake_payment_get(reference=top_up.provider_reference)
    if payment is None:  # created by top_up_create a moment ago
        raise RuntimeError("the fake provider lost the demo payment")
    payment.status = FakePaymentStatus.PAID
    payment.save(update_fields=["status", "updated_at"])
    body = fake_event_body(payment=payment)
    headers = {SIGNATURE_HEADER: body_sign(body, settings.PAYMENT_WEBHOOK_SECRET)}
    top_up_webhook_apply(provider_name="fake", body=body, headers=headers)
    command.stdout.write(f"Demo customer's wallet topped up with {DEMO_TOP_UP}.")
