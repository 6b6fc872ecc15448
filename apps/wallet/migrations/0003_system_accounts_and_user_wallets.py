"""The system accounts, and a wallet for every user who existed before the wallet app."""

import uuid
from typing import Any

from django.conf import settings
from django.db import migrations
from django.utils import timezone

# code → (name, may go negative): clearing and adjustments stand for money outside the ledger.
SYSTEM_ACCOUNTS = {
    "provider_clearing": ("Payment provider clearing", True),
    "order_revenue": ("Order revenue", False),
    "adjustments": ("Manual adjustments", True),
}


def create(apps: Any, schema_editor: Any) -> None:
    """Open what is missing (safe to run on a database that has some of it)."""
    account_model = apps.get_model("wallet", "Account")
    user_model = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    currency = settings.WALLET_CURRENCY
    now = timezone.now()
    for code, (name, may_go_negative) in SYSTEM_ACCOUNTS.items():
        account_model.objects.get_or_create(
            kind="system",
            code=code,
            defaults={"name": name, "currency": currency, "may_go_negative": may_go_negative},
        )
    with_wallet = account_model.objects.filter(kind="user").values("owner_id")
    wallets = [
        account_model(
            id=uuid.uuid4(),
            kind="user",
            owner_id=user_id,
            name="Wallet",
            currency=currency,
            created_at=now,
        )
        for user_id in user_model.objects.exclude(pk__in=with_wallet).values_list("pk", flat=True)
    ]
    account_model.objects.bulk_create(wallets, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("wallet", "0002_ledger_append_only_and_balanced"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
