"""Wallet reads: a user's wallet and its cached balance, entries, top-ups, the ledger check."""

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce

from apps.core.platform.cache import cached_value, versioned_key
from apps.core.records.periods import created_in_local_days
from apps.wallet.models import ZERO, Account, AccountKind, Entry, LedgerTransaction, TopUp

BALANCE_KEY_PREFIX = "wallet:balance"


def balance_namespace(user_id: uuid.UUID | str) -> str:
    """The cache namespace of one user's balance: bumped by every entry on their wallet."""
    return f"wallet.balance:{user_id}"


def wallet_of(*, user_id: uuid.UUID | str) -> Account:
    """The user's wallet (every user has one, opened with the user)."""
    wallet: Account = Account.objects.get(kind=AccountKind.USER, owner_id=user_id)
    return wallet


def wallet_state(account: Account) -> dict[str, Any]:
    """What `GET /wallet/` and `wallet.updated` carry (DESIGN.md: Wallet)."""
    return {
        "id": str(account.pk),
        "currency": account.currency,
        "balance": str(account.balance),
        "updated_at": account.updated_at.isoformat().replace("+00:00", "Z"),
    }


def wallet_balance(*, user_id: uuid.UUID | str) -> dict[str, Any]:
    """The user's wallet state, cached until the next entry on it.

    The key carries the version of the user's balance namespace, which the posting service
    bumps in its transaction and again after commit, so a read racing a payment can never
    leave a stale balance behind (apps.core.platform.cache).
    """
    key = versioned_key(BALANCE_KEY_PREFIX, [balance_namespace(user_id)], str(user_id))
    state: dict[str, Any] = cached_value(
        key,
        lambda: wallet_state(wallet_of(user_id=user_id)),
        timeout=settings.WALLET_BALANCE_CACHE_SECONDS,
    )
    return state


def entry_list() -> models.QuerySet[Entry]:
    """Entries newest first, with what the transactions list shows (constant queries)."""
    return Entry.objects.select_related("transaction", "counterparty").order_by(
        "-created_at", "-id"
    )


def entry_list_of(*, user_id: uuid.UUID | str) -> models.QuerySet[Entry]:
    """The entries of one user's wallet, newest first."""
    return entry_list().filter(account__kind=AccountKind.USER, account__owner__pk=user_id)


def entry_list_filtered(
    queryset: models.QuerySet[Entry],
    *,
    kind: str | None = None,
    created_from: date | None = None,
    created_to: date | None = None,
    tz: ZoneInfo | None = None,
) -> models.QuerySet[Entry]:
    """`queryset` narrowed by kind and by local days in `tz` (both days included)."""
    if kind:
        queryset = queryset.filter(kind=kind)
    return created_in_local_days(queryset, created_from=created_from, created_to=created_to, tz=tz)


def top_up_list() -> models.QuerySet[TopUp]:
    """Top-ups, newest first."""
    return TopUp.objects.order_by("-created_at")


def top_up_list_of(*, user_id: uuid.UUID | str) -> models.QuerySet[TopUp]:
    """One user's top-ups, newest first."""
    return top_up_list().filter(user_id=user_id)


@dataclass
class LedgerReport:
    """What `ledger_check` found: empty lists and a zero total mean the ledger is sound."""

    drifted_accounts: list[str] = field(default_factory=list)  # balance != sum of entries
    unbalanced_transactions: list[str] = field(default_factory=list)  # entries sum != 0
    negative_wallets: list[str] = field(default_factory=list)
    total: Decimal = ZERO  # all balances together: always zero
    accounts: int = 0
    transactions: int = 0

    @property
    def ok(self) -> bool:
        """True when no invariant is broken."""
        return not (
            self.drifted_accounts
            or self.unbalanced_transactions
            or self.negative_wallets
            or self.total != ZERO
        )

    def problems(self) -> list[str]:
        """One line per broken invariant, naming the offending ids."""
        lines = []
        if self.drifted_accounts:
            lines.append(f"balance != sum of entries: {', '.join(self.drifted_accounts)}")
        if self.unbalanced_transactions:
            lines.append(f"entries do not sum to zero: {', '.join(self.unbalanced_transactions)}")
        if self.negative_wallets:
            lines.append(f"negative wallet balance: {', '.join(self.negative_wallets)}")
        if self.total != ZERO:
            lines.append(f"all balances sum to {self.total}, not 0")
        return lines


def ledger_report() -> LedgerReport:
    """Check the ledger's invariants in the database (four aggregate queries)."""
    summed = Coalesce(Sum("entries__amount"), ZERO, output_field=models.DecimalField())
    drifted = (
        Account.all_objects.annotate(summed=summed)
        .exclude(balance=F("summed"))
        .values_list("pk", flat=True)
    )
    unbalanced = (
        LedgerTransaction.all_objects.annotate(summed=summed, legs=Count("entries"))
        .filter(~Q(summed=0) | Q(legs__lt=2))
        .values_list("pk", flat=True)
    )
    negative = Account.all_objects.filter(kind=AccountKind.USER, balance__lt=0).values_list(
        "pk", flat=True
    )
    totals = Account.all_objects.aggregate(
        total=Coalesce(Sum("balance"), ZERO, output_field=models.DecimalField()),
        accounts=Count("pk"),
    )
    return LedgerReport(
        drifted_accounts=[str(pk) for pk in drifted],
        unbalanced_transactions=[str(pk) for pk in unbalanced],
        negative_wallets=[str(pk) for pk in negative],
        total=Decimal(totals["total"]).quantize(Decimal("0.01")),  # SQLite drops the scale
        accounts=totals["accounts"],
        transactions=LedgerTransaction.all_objects.count(),
    )
