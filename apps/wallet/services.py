"""Wallet services: one posting service for the ledger, and thin services on top of it.

`ledger_post` is the only code that moves money. It takes balanced legs, locks their
accounts in one fixed order (so two postings never deadlock), applies each balance change as
one conditional UPDATE that cannot take a wallet below zero, writes the entries with the
balance after each, records the audit rows, invalidates the owners' cached balances and,
after commit, sends `wallet.updated` to each owner. Top-ups, transfers, order payments,
refunds and adjustments only decide the legs.
"""

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

import structlog
from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from rest_framework.exceptions import NotFound, ValidationError

from apps.accounts.selectors import user_active_by_email
from apps.core.exceptions import AmountMismatch, Conflict, InsufficientFunds, LimitExceeded
from apps.core.models import AuditAction
from apps.core.platform.cache import namespace_bump
from apps.core.platform.context import get_actor_context
from apps.core.platform.tracing import get_trace_id
from apps.core.platform.ws.notify import notify_user_on_commit
from apps.core.records.changes import Change, model_changed_send, snapshot
from apps.core.records.services import object_create, object_update
from apps.wallet.models import (
    ZERO,
    Account,
    AccountKind,
    Entry,
    EntryKind,
    LedgerTransaction,
    SystemAccount,
    TopUp,
    TopUpStatus,
    TransactionKind,
    WebhookEvent,
)
from apps.wallet.notifications import WALLET_UPDATED
from apps.wallet.providers import ProviderPayment, ProviderPaymentStatus, provider_get
from apps.wallet.selectors import balance_namespace, wallet_of, wallet_state

if TYPE_CHECKING:
    from apps.accounts.models import User

logger = structlog.get_logger(__name__)

CENTS = Decimal("0.01")
UNBALANCED_MESSAGE = "A ledger transaction's legs must sum to zero."
LEGS_MESSAGE = "A ledger transaction needs two or more legs on distinct accounts."
ALREADY_POSTED_MESSAGE = "This {kind} was already posted."
RECIPIENT_NOT_FOUND_MESSAGE = "Recipient not found."
SELF_TRANSFER_MESSAGE = "You cannot transfer money to yourself."
DAILY_COUNT_MESSAGE = "You can make at most {limit} transfers in 24 hours."
DAILY_AMOUNT_MESSAGE = "You can transfer at most {limit} in 24 hours; {left} is left."
UNKNOWN_REFERENCE_MESSAGE = "No top-up has this payment reference."
REASON_REQUIRED_MESSAGE = "An adjustment needs a reason."
ADJUST_ADJUSTMENTS_MESSAGE = "The adjustments account is the other side of every adjustment."
DECLINED_REASON = "Declined by the payment provider."
EXPIRED_REASON = "Not paid within {hours} hours."
DAY = timedelta(hours=24)


@dataclass(frozen=True)
class Leg:
    """One side of a posting: a signed amount on an account, as that account sees it."""

    account_id: uuid.UUID
    amount: Decimal
    kind: str  # an EntryKind
    counterparty_id: uuid.UUID | None = None


def _legs_checked(legs: Sequence[Leg]) -> list[Leg]:
    """The legs at cent precision, sorted by account (the lock order); refused unless they
    are two or more, on distinct accounts, none zero, and sum to zero."""
    accounts = {leg.account_id for leg in legs}
    if len(legs) < 2 or len(accounts) != len(legs):  # noqa: PLR2004 - double entry
        raise ValueError(LEGS_MESSAGE)
    exact = [
        Leg(leg.account_id, leg.amount.quantize(CENTS), leg.kind, leg.counterparty_id)
        for leg in legs
    ]
    if any(
        leg.amount != leg_in.amount or not leg.amount
        for leg, leg_in in zip(exact, legs, strict=True)
    ):
        raise ValueError(LEGS_MESSAGE)
    if sum((leg.amount for leg in exact), ZERO) != ZERO:
        raise ValueError(UNBALANCED_MESSAGE)
    return sorted(exact, key=lambda leg: str(leg.account_id))


def accounts_lock(account_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Account]:
    """Lock the accounts (SELECT ... FOR UPDATE) in the one order every posting uses."""
    locked = Account.all_objects.select_for_update().filter(pk__in=account_ids).order_by("pk")
    return {account.pk: account for account in locked}


def ledger_post(
    *,
    kind: str,
    legs: Sequence[Leg],
    reference: str,
    dedupe_key: str,
    note: str = "",
) -> LedgerTransaction:
    """Post one balanced transaction; 409 `insufficient_funds` when a wallet would go below
    zero, 409 `conflict` when this `kind` + `dedupe_key` was posted before (nothing moves)."""
    ordered = _legs_checked(legs)
    actor: Any = get_actor_context().user
    with transaction.atomic():
        try:
            with transaction.atomic():
                ledger_transaction = LedgerTransaction.objects.create(
                    kind=kind,
                    reference=reference[:100],
                    dedupe_key=dedupe_key[:200],
                    note=note[:200],
                    actor=actor if getattr(actor, "is_authenticated", False) else None,
                    trace_id=get_trace_id() or "",
                )
        except IntegrityError as exc:
            raise Conflict(ALREADY_POSTED_MESSAGE.format(kind=kind.replace("_", "-"))) from exc
        before = accounts_lock([leg.account_id for leg in ordered])
        for leg in ordered:
            # One conditional UPDATE: the balance moves only if it stays >= 0 (or may not).
            moved = (
                Account.all_objects.filter(pk=leg.account_id)
                .filter(Q(may_go_negative=True) | Q(balance__gte=-leg.amount))
                .update(balance=F("balance") + leg.amount, updated_at=timezone.now())
            )
            if not moved:
                raise InsufficientFunds
        after = {account.pk: account for account in Account.all_objects.filter(pk__in=before)}
        entries = [
            Entry(
                transaction=ledger_transaction,
                account_id=leg.account_id,
                kind=leg.kind,
                amount=leg.amount,
                balance_after=after[leg.account_id].balance,
                counterparty_id=leg.counterparty_id,
            )
            for leg in ordered
        ]
        Entry.objects.bulk_create(entries)
        _ledger_post_record(ledger_transaction, entries, before, after)
    return ledger_transaction


def _ledger_post_record(
    ledger_transaction: LedgerTransaction,
    entries: Sequence[Entry],
    before: Mapping[uuid.UUID, Account],
    after: Mapping[uuid.UUID, Account],
) -> None:
    """Audit rows for the transaction, its entries and each balance; stale cached balances;
    `wallet.updated` to each owner after commit."""
    model_changed_send(
        model=LedgerTransaction, action=AuditAction.CREATE, changes=[Change(ledger_transaction)]
    )
    model_changed_send(
        model=Entry, action=AuditAction.CREATE, changes=[Change(entry) for entry in entries]
    )
    changes = [Change(after[pk], snapshot(account)) for pk, account in before.items()]
    model_changed_send(model=Account, action=AuditAction.UPDATE, changes=changes)
    for account in after.values():
        if account.owner_id is not None:
            namespace_bump(balance_namespace(account.owner_id))
            notify_user_on_commit(account.owner_id, WALLET_UPDATED, wallet_state(account))


def wallet_open(*, user_id: uuid.UUID) -> Account:
    """The user's wallet, opened if they have none yet.

    Part of creating the user (whose audit row records it), with a zero balance: not audited
    on its own. Every balance change is (ledger_post).
    """
    wallet, _ = Account.all_objects.get_or_create(
        kind=AccountKind.USER,
        owner_id=user_id,
        defaults={"name": "Wallet", "currency": settings.WALLET_CURRENCY},
    )
    return wallet


def system_account(code: SystemAccount) -> Account:
    """A system account (created by migration; opened here if a database lacks it)."""
    account, _ = Account.all_objects.get_or_create(
        kind=AccountKind.SYSTEM,
        code=code,
        defaults={
            "name": code.label,
            "currency": settings.WALLET_CURRENCY,
            "may_go_negative": code != SystemAccount.ORDER_REVENUE,
        },
    )
    return account


# --- Top-ups -------------------------------------------------------------------------------


def top_up_create(*, user: "User", amount: Decimal) -> TopUp:
    """A pending top-up and its checkout at the configured provider (one recorded row)."""
    provider = provider_get()
    top_up_id = uuid.uuid4()
    path = reverse("wallet-webhook", kwargs={"version": "v1", "provider": provider.name})
    with transaction.atomic():
        checkout = provider.create_checkout(
            top_up_id=str(top_up_id),
            amount=amount,
            currency=settings.WALLET_CURRENCY,
            webhook_url=f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}",
        )
        return object_create(
            model=TopUp,
            data={
                "id": top_up_id,
                "user": user,
                "account": wallet_of(user_id=user.pk),
                "amount": amount,
                "currency": settings.WALLET_CURRENCY,
                "provider": provider.name,
                "provider_reference": checkout.reference,
                "checkout_url": checkout.url,
            },
        )


def top_up_settle(*, top_up: TopUp, payment: ProviderPayment) -> str:
    """Apply what the provider says about a (locked) top-up: credit it once when paid with
    the right amount, fail it when declined. The outcome: `applied`, `failed`, `pending`, or
    `ignored` when it was settled before. 409 `amount_mismatch` credits nothing.

    A payment that succeeds after its top-up failed (expired, or a declined card retried) is
    still credited: the provider holds the money, so the ledger must too.
    """
    late = top_up.status == TopUpStatus.FAILED
    if top_up.status == TopUpStatus.COMPLETED or (
        late and payment.status != ProviderPaymentStatus.SUCCEEDED
    ):
        return "ignored"
    if late:
        logger.warning("top_up_paid_after_failing", top_up=str(top_up.pk))
    if payment.status == ProviderPaymentStatus.PENDING:
        return "pending"
    if payment.status == ProviderPaymentStatus.FAILED:
        object_update(
            instance=top_up,
            data={
                "status": TopUpStatus.FAILED,
                "failure_reason": DECLINED_REASON,
                "settled_at": timezone.now(),
            },
        )
        return "failed"
    if payment.amount != top_up.amount or payment.currency != top_up.currency:
        logger.error(
            "top_up_amount_mismatch",
            top_up=str(top_up.pk),
            expected=f"{top_up.amount} {top_up.currency}",
            reported=f"{payment.amount} {payment.currency}",
        )
        raise AmountMismatch
    clearing = system_account(SystemAccount.PROVIDER_CLEARING)
    posted = ledger_post(
        kind=TransactionKind.TOP_UP,
        legs=[
            Leg(clearing.pk, -top_up.amount, EntryKind.TOP_UP),
            Leg(top_up.account_id, top_up.amount, EntryKind.TOP_UP),
        ],
        reference=f"top_up:{top_up.pk}",
        dedupe_key=f"top_up:{top_up.pk}",
    )
    object_update(
        instance=top_up,
        data={
            "status": TopUpStatus.COMPLETED,
            "settled_at": timezone.now(),
            "ledger_transaction": posted,
        },
    )
    return "applied"


def _top_up_locked(*, provider: str, reference: str) -> TopUp | None:
    """The top-up behind a provider reference, locked for this transaction."""
    return (
        TopUp.objects.select_for_update()
        .filter(provider=provider, provider_reference=reference)
        .first()
    )


@dataclass(frozen=True)
class WebhookOutcome:
    """What a webhook did: `applied`, `failed`, `pending`, `ignored` or `duplicate`."""

    event_id: str
    outcome: str


def top_up_webhook_apply(
    *, provider_name: str, body: bytes, headers: Mapping[str, str]
) -> WebhookOutcome:
    """Verify a provider's webhook and apply its event once (a redelivered event id changes
    nothing); 401 on a bad signature or an old timestamp, 404 for an unknown reference,
    409 `amount_mismatch` when the amount differs (each leaves no trace)."""
    provider = provider_get(provider_name)
    event = provider.verify_webhook(body=body, headers=headers)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = WebhookEvent.objects.create(
                    provider=provider.name,
                    event_id=event.event_id,
                    event_type=event.event_type,
                    reference=event.payment.reference[:100],
                    outcome="received",
                    payload=event.payload,
                )
        except IntegrityError:
            return WebhookOutcome(event.event_id, "duplicate")
        top_up = _top_up_locked(provider=provider.name, reference=event.payment.reference)
        if top_up is None:
            raise NotFound(UNKNOWN_REFERENCE_MESSAGE)
        outcome = top_up_settle(top_up=top_up, payment=event.payment)
        WebhookEvent.objects.filter(pk=record.pk).update(outcome=outcome)
    return WebhookOutcome(event.event_id, outcome)


def top_up_recheck(*, top_up_id: uuid.UUID | str) -> str:
    """Ask the provider about a pending top-up and apply the answer (for lost webhooks)."""
    top_up = TopUp.objects.filter(pk=top_up_id, status=TopUpStatus.PENDING).first()
    if top_up is None or not top_up.provider_reference:
        return "ignored"
    payment = provider_get(top_up.provider).payment_status(reference=top_up.provider_reference)
    with transaction.atomic():
        locked = _top_up_locked(provider=top_up.provider, reference=top_up.provider_reference)
        if locked is None:
            return "ignored"
        return top_up_settle(top_up=locked, payment=payment)


def top_ups_pending_stale(*, older_than: timedelta) -> list[str]:
    """Ids of top-ups still pending after `older_than` (oldest first, at most 500)."""
    cutoff = timezone.now() - older_than
    stale = TopUp.objects.filter(status=TopUpStatus.PENDING, created_at__lte=cutoff)
    return [str(pk) for pk in stale.order_by("created_at").values_list("pk", flat=True)[:500]]


def top_ups_expire() -> int:
    """Fail top-ups pending for TOP_UP_EXPIRY_HOURS; how many. Each is first settled from
    the provider's answer; one still unpaid has its checkout closed at the provider, so it
    can no longer be paid (a payment that slips through anyway is credited late)."""
    hours = settings.TOP_UP_EXPIRY_HOURS
    expired = 0
    for top_up_id in top_ups_pending_stale(older_than=timedelta(hours=hours)):
        if top_up_recheck(top_up_id=top_up_id) != "pending":
            continue  # paid or declined meanwhile: settled by the recheck
        with transaction.atomic():
            top_up = TopUp.objects.select_for_update().filter(pk=top_up_id).first()
            if top_up is None or top_up.status != TopUpStatus.PENDING:
                continue
            provider_get(top_up.provider).cancel_checkout(reference=top_up.provider_reference)
            object_update(
                instance=top_up,
                data={
                    "status": TopUpStatus.FAILED,
                    "failure_reason": EXPIRED_REASON.format(hours=hours),
                    "settled_at": timezone.now(),
                },
            )
            expired += 1
    return expired


# --- Transfers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TransferResult:
    """A posted transfer as `POST /wallet/transfers/` answers it."""

    id: uuid.UUID
    amount: Decimal
    to: Any  # the recipient (a User)
    note: str
    created_at: Any


def _transfer_limits_check(*, account: Account, amount: Decimal) -> None:
    """409 `limit_exceeded` past the daily count or amount (rolling 24 hours); call with the
    sender's account locked, so parallel transfers cannot both pass."""
    since = timezone.now() - DAY
    sent = Entry.objects.filter(
        account=account, kind=EntryKind.TRANSFER_OUT, created_at__gte=since
    ).aggregate(
        count=Count("pk"),
        total=Coalesce(Sum("amount"), ZERO, output_field=models.DecimalField()),
    )
    if sent["count"] + 1 > settings.TRANSFER_DAILY_COUNT:
        raise LimitExceeded(DAILY_COUNT_MESSAGE.format(limit=settings.TRANSFER_DAILY_COUNT))
    limit = Decimal(settings.TRANSFER_DAILY_AMOUNT)
    left = max(limit + sent["total"], ZERO)  # transfer_out amounts are negative
    if amount > left:
        raise LimitExceeded(DAILY_AMOUNT_MESSAGE.format(limit=limit, left=left))


def _transfer_dedupe_key(sender: "User", request_key: str) -> str:
    """`transfer:<sender>:<sha256 of the key>` (fixed length, whatever the key's), or a
    fresh one without a key."""
    if not request_key:
        return f"transfer:{uuid.uuid4()}"
    return f"transfer:{sender.pk}:{hashlib.sha256(request_key.encode()).hexdigest()}"


def wallet_transfer(
    *, sender: "User", to_email: str, amount: Decimal, note: str = "", request_key: str = ""
) -> TransferResult:
    """Move `amount` from the sender's wallet to the wallet of the user with `to_email`.

    400 on `to` for an unknown recipient or the sender themself (the message never says
    more than "not found"); 409 `limit_exceeded` past the daily limits; 409
    `insufficient_funds`. `request_key` (the request's Idempotency-Key) makes the transfer
    unique in the ledger too: the same key from the same sender is never posted twice.
    """
    recipient = user_active_by_email(email=to_email)
    if recipient is None:
        raise ValidationError({"to": [RECIPIENT_NOT_FOUND_MESSAGE]}, code="not_found")
    if recipient.pk == sender.pk:
        raise ValidationError({"to": [SELF_TRANSFER_MESSAGE]}, code="invalid")
    with transaction.atomic():
        source = wallet_of(user_id=sender.pk)
        target = wallet_of(user_id=recipient.pk)
        locked = accounts_lock([source.pk, target.pk])
        _transfer_limits_check(account=locked[source.pk], amount=amount)
        posted = ledger_post(
            kind=TransactionKind.TRANSFER,
            legs=[
                Leg(source.pk, -amount, EntryKind.TRANSFER_OUT, recipient.pk),
                Leg(target.pk, amount, EntryKind.TRANSFER_IN, sender.pk),
            ],
            reference=f"transfer:{recipient.email}",
            dedupe_key=_transfer_dedupe_key(sender, request_key),
            note=note,
        )
    return TransferResult(
        id=posted.pk, amount=amount, to=recipient, note=note, created_at=posted.created_at
    )


# --- Orders --------------------------------------------------------------------------------


class PayableOrder(Protocol):
    """What the wallet reads of an order (apps.orders.models.Order)."""

    pk: Any
    customer_id: Any
    number: str
    total: Decimal


def _order_dedupe_key(order: PayableOrder) -> str:
    """The one payment and the one refund of an order share this key (unique per kind)."""
    return f"order:{order.pk}"


def order_charge(*, order: PayableOrder) -> LedgerTransaction:
    """Debit the customer's wallet and credit order revenue by the order's total, once."""
    wallet = wallet_of(user_id=order.customer_id)
    revenue = system_account(SystemAccount.ORDER_REVENUE)
    return ledger_post(
        kind=TransactionKind.PAYMENT,
        legs=[
            Leg(wallet.pk, -order.total, EntryKind.PAYMENT),
            Leg(revenue.pk, order.total, EntryKind.PAYMENT),
        ],
        reference=f"order:{order.number}",
        dedupe_key=_order_dedupe_key(order),
    )


def order_refund(*, order: PayableOrder) -> LedgerTransaction | None:
    """Post the reverse of the order's payment, once; None when it was not paid through the
    wallet (nothing to give back)."""
    paid = LedgerTransaction.objects.filter(
        kind=TransactionKind.PAYMENT, dedupe_key=_order_dedupe_key(order)
    ).first()
    if paid is None:
        return None
    legs = [
        Leg(entry.account_id, -entry.amount, EntryKind.REFUND)
        for entry in Entry.objects.filter(transaction=paid)
    ]
    return ledger_post(
        kind=TransactionKind.REFUND,
        legs=legs,
        reference=f"order:{order.number}",
        dedupe_key=_order_dedupe_key(order),
    )


class WalletOrderPayments:
    """The orders app's payment gateway (settings.ORDER_PAYMENT_GATEWAY): the wallet."""

    def charge(self, *, order: PayableOrder) -> None:
        """Take the order's total from the customer's wallet (409 `insufficient_funds`); a
        free order moves no money."""
        if order.total:
            order_charge(order=order)

    def refund(self, *, order: PayableOrder) -> None:
        """Give back what the order's payment took."""
        order_refund(order=order)


# --- Corrections ---------------------------------------------------------------------------


def ledger_adjust(*, account: Account, amount: Decimal, reason: str) -> LedgerTransaction:
    """A manual correction: `amount` (signed) on `account`, balanced on the adjustments
    account, with a required reason. A wallet still cannot go below zero."""
    if not reason.strip():
        raise ValidationError({"reason": [REASON_REQUIRED_MESSAGE]})
    adjustments = system_account(SystemAccount.ADJUSTMENTS)
    if account.pk == adjustments.pk:
        raise ValidationError({"account": [ADJUST_ADJUSTMENTS_MESSAGE]})
    return ledger_post(
        kind=TransactionKind.ADJUSTMENT,
        legs=[
            Leg(account.pk, amount, EntryKind.ADJUSTMENT),
            Leg(adjustments.pk, -amount, EntryKind.ADJUSTMENT),
        ],
        reference=f"adjustment:{account.pk}",
        dedupe_key=f"adjustment:{uuid.uuid4()}",
        note=reason.strip(),
    )
