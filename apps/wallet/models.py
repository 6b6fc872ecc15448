"""The ledger: accounts, balanced transactions of immutable entries, and top-ups.

Every money movement is one `LedgerTransaction` whose `Entry` rows sum to zero. An account's
`balance` is the sum of its entries, kept on the row by `apps.wallet.services.ledger_post` in
the same database transaction. Entries and transactions are never updated or deleted
(PostgreSQL triggers refuse it; migration 0002): a correction is a new transaction.
"""

from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.db import models

from apps.core.models import BaseModel

MAX_DIGITS, DECIMAL_PLACES = 14, 2  # Decimal(14, 2): every amount and balance


ZERO = Decimal("0.00")


class AccountKind(models.TextChoices):
    """A user's wallet, or an account of the business."""

    USER = "user", "User wallet"
    SYSTEM = "system", "System account"


class SystemAccount(models.TextChoices):
    """The system accounts (codes), created by migration 0003."""

    PROVIDER_CLEARING = "provider_clearing", "Payment provider clearing"
    ORDER_REVENUE = "order_revenue", "Order revenue"
    ADJUSTMENTS = "adjustments", "Manual adjustments"


class Account(BaseModel):
    """A ledger account: a user's wallet (one per user) or a system account (one per code).

    A wallet never goes below zero (a check constraint, and the posting service's conditional
    UPDATE). Only system accounts that stand for money outside the ledger (provider clearing,
    adjustments) may be negative: all balances together always sum to zero.
    """

    kind = models.CharField(max_length=6, choices=AccountKind.choices)
    owner = models.OneToOneField(  # a wallet with entries protects its owner (Entry.account)
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="wallet",
    )
    code = models.CharField(max_length=32, blank=True)
    name = models.CharField(max_length=100)
    currency = models.CharField(max_length=3)
    balance = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    may_go_negative = models.BooleanField(default=False)

    class Meta(BaseModel.Meta):
        ordering: ClassVar[list[str]] = ["kind", "code", "created_at"]
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=models.Q(may_go_negative=True) | models.Q(balance__gte=0),
                name="wallet_account_balance_gte_0",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind=AccountKind.USER, owner__isnull=False, code="")
                    & models.Q(may_go_negative=False)
                )
                | models.Q(kind=AccountKind.SYSTEM, owner__isnull=True, code__gt=""),
                name="wallet_account_kind_shape",
            ),
            models.UniqueConstraint(
                fields=["code"],
                condition=models.Q(kind=AccountKind.SYSTEM),
                name="wallet_account_system_code_unique",
            ),
        ]

    def __str__(self) -> str:
        """`<name> (<currency>)`."""
        return f"{self.name} ({self.currency})"


class TransactionKind(models.TextChoices):
    """What caused a ledger transaction."""

    TOP_UP = "top_up", "Top-up"
    TRANSFER = "transfer", "Transfer"
    PAYMENT = "payment", "Order payment"
    REFUND = "refund", "Order refund"
    ADJUSTMENT = "adjustment", "Adjustment"


class LedgerTransaction(BaseModel):
    """One balanced money movement: its entries sum to zero.

    `dedupe_key` is unique per kind, so the same cause can never be posted twice (one payment
    and one refund per order, one credit per top-up), whatever retries or races happen.
    """

    kind = models.CharField(max_length=10, choices=TransactionKind.choices)
    reference = models.CharField(max_length=100)  # what caused it: "order:ORD-000123", ...
    dedupe_key = models.CharField(max_length=200)
    note = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    trace_id = models.CharField(max_length=64, blank=True)

    class Meta(BaseModel.Meta):
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["kind", "dedupe_key"], name="wallet_transaction_dedupe_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=TransactionKind.values),
                name="wallet_transaction_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        """`<kind> <reference>`."""
        return f"{self.kind} {self.reference}"


class EntryKind(models.TextChoices):
    """What an entry is, as its account sees it (DESIGN.md: the transactions list's `kind`)."""

    TOP_UP = "top_up", "Top-up"
    TRANSFER_IN = "transfer_in", "Transfer in"
    TRANSFER_OUT = "transfer_out", "Transfer out"
    PAYMENT = "payment", "Payment"
    REFUND = "refund", "Refund"
    ADJUSTMENT = "adjustment", "Adjustment"


class Entry(BaseModel):
    """One leg of a ledger transaction: a signed amount on one account, and the account's
    balance right after it (`balance_after`)."""

    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=12, choices=EntryKind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    balance_after = models.DecimalField(max_digits=14, decimal_places=2)
    counterparty = models.ForeignKey(  # the other user of a transfer, for the list
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta(BaseModel.Meta):
        verbose_name_plural = "entries"
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="wallet_entry_amount_not_0"),
            models.CheckConstraint(
                condition=models.Q(kind__in=EntryKind.values), name="wallet_entry_kind_valid"
            ),
            models.UniqueConstraint(
                fields=["transaction", "account"], name="wallet_entry_account_once"
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["account", "-created_at"], name="wallet_entry_account_idx"),
        ]

    def __str__(self) -> str:
        """`<amount> on <account>`."""
        return f"{self.amount} {self.kind}"


class TopUpStatus(models.TextChoices):
    """Where a top-up is: waiting for the provider, credited, or not."""

    PENDING = "pending", "Pending"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class TopUp(BaseModel):
    """Money a user adds through a payment provider: credited only by the provider's signed
    webhook (or the provider's answer to a re-check), once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="top_ups"
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="top_ups")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=9, choices=TopUpStatus.choices, default=TopUpStatus.PENDING
    )
    provider = models.CharField(max_length=32)
    provider_reference = models.CharField(max_length=100, blank=True)
    checkout_url = models.URLField(max_length=500, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    ledger_transaction = models.OneToOneField(
        LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(BaseModel.Meta):
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="wallet_top_up_amount_gt_0"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=TopUpStatus.values),
                name="wallet_top_up_status_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=TopUpStatus.COMPLETED)
                | models.Q(ledger_transaction__isnull=False),
                name="wallet_top_up_completed_is_posted",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=~models.Q(provider_reference=""),
                name="wallet_top_up_reference_unique",
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["user", "-created_at"], name="wallet_top_up_user_idx"),
            models.Index(fields=["status", "created_at"], name="wallet_top_up_status_idx"),
        ]

    def __str__(self) -> str:
        """`<amount> <currency> top-up (<status>)`."""
        return f"{self.amount} {self.currency} top-up ({self.status})"


class WebhookEvent(BaseModel):
    """A provider event that was applied: its id is unique per provider, so a redelivered
    event is recognised and changes nothing."""

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=100)
    event_type = models.CharField(max_length=50)
    reference = models.CharField(max_length=100)
    outcome = models.CharField(max_length=20)
    payload = models.JSONField()

    class Meta(BaseModel.Meta):
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="wallet_webhook_event_once"
            ),
        ]

    def __str__(self) -> str:
        """`<provider> <event id>`."""
        return f"{self.provider} {self.event_id}"


class FakePaymentStatus(models.TextChoices):
    """The fake provider's view of a payment."""

    OPEN = "open", "Open"
    PAID = "paid", "Paid"
    DECLINED = "declined", "Declined"


class FakePayment(BaseModel):
    """The fake provider's own record of a checkout (its side, not the ledger's): what a real
    provider keeps on its servers, here so `make run` and the tests run the real flow."""

    reference = models.CharField(max_length=100, unique=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=8, choices=FakePaymentStatus.choices, default=FakePaymentStatus.OPEN
    )
    webhook_url = models.URLField(max_length=500)

    class Meta(BaseModel.Meta):
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="wallet_fake_payment_amount_gt_0"
            ),
        ]

    def __str__(self) -> str:
        """The reference."""
        return self.reference
