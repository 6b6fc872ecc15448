"""The ledger's rules: balanced postings, no overdraft, append-only rows, reconciliation,
cached balances, events and the admin's adjustment."""

import asyncio
import io
import uuid
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from apps.core.exceptions import Conflict, InsufficientFunds
from apps.core.models import AuditLog
from apps.core.platform.ws.consumers import user_group
from apps.wallet.models import Account, Entry, EntryKind, LedgerTransaction, SystemAccount
from apps.wallet.selectors import ledger_report, wallet_balance, wallet_of
from apps.wallet.services import (
    Leg,
    ledger_adjust,
    ledger_post,
    system_account,
)
from apps.wallet.tasks import ledger_check_task
from tests import api_cases as api
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def adjustments() -> Account:
    return system_account(SystemAccount.ADJUSTMENTS)


def credit(user: Any, amount: str) -> LedgerTransaction:
    """Post `amount` onto the user's wallet from the adjustments account."""
    return ledger_adjust(account=wallet_of(user_id=user.pk), amount=Decimal(amount), reason="t")


def test_a_new_user_has_an_empty_wallet_in_the_deployment_currency(settings: Any) -> None:
    wallet = wallet_of(user_id=UserFactory().pk)
    assert (wallet.balance, wallet.currency, wallet.kind) == (Decimal("0.00"), "USD", "user")


def test_a_posting_moves_both_balances_and_records_the_balance_after_each_entry() -> None:
    user = UserFactory()
    posted = credit(user, "30.00")
    entries = {e.account_id: e for e in Entry.objects.filter(transaction=posted)}
    wallet = wallet_of(user_id=user.pk)
    assert wallet.balance == Decimal("30.00")
    assert adjustments().balance == Decimal("-30.00")
    assert entries[wallet.pk].balance_after == Decimal("30.00")
    assert entries[wallet.pk].kind == EntryKind.ADJUSTMENT
    assert sum(e.amount for e in entries.values()) == 0
    assert ledger_report().ok


@pytest.mark.parametrize(
    "amounts",
    [["10.00", "-9.99"], ["10.00"], ["0.00", "0.00"], ["1.001", "-1.001"]],
)
def test_unbalanced_single_zero_or_sub_cent_legs_are_refused(amounts: list[str]) -> None:
    accounts = [UserFactory().wallet for _ in amounts]
    legs = [
        Leg(a.pk, Decimal(x), EntryKind.ADJUSTMENT) for a, x in zip(accounts, amounts, strict=True)
    ]
    with pytest.raises(ValueError):
        ledger_post(kind="adjustment", legs=legs, reference="r", dedupe_key="k")
    assert not LedgerTransaction.objects.exists()


def test_a_wallet_never_goes_below_zero_and_nothing_moves() -> None:
    user = UserFactory()
    credit(user, "5.00")
    with pytest.raises(InsufficientFunds):
        credit(user, "-5.01")
    assert wallet_of(user_id=user.pk).balance == Decimal("5.00")
    assert LedgerTransaction.objects.count() == 1
    assert ledger_report().ok


def test_the_same_cause_is_posted_once() -> None:
    user = UserFactory()
    legs = [
        Leg(wallet_of(user_id=user.pk).pk, Decimal("1.00"), EntryKind.ADJUSTMENT),
        Leg(adjustments().pk, Decimal("-1.00"), EntryKind.ADJUSTMENT),
    ]
    ledger_post(kind="adjustment", legs=legs, reference="r", dedupe_key="once")
    with pytest.raises(Conflict):
        ledger_post(kind="adjustment", legs=legs, reference="r", dedupe_key="once")
    assert wallet_of(user_id=user.pk).balance == Decimal("1.00")


def test_a_posting_writes_audit_rows_for_the_transaction_entries_and_balances() -> None:
    user = UserFactory()
    posted = credit(user, "7.00")
    wallet = wallet_of(user_id=user.pk)
    assert AuditLog.objects.filter(model="wallet.ledgertransaction", object_id=posted.pk).exists()
    assert AuditLog.objects.filter(model="wallet.entry").count() == 2
    balance_row = AuditLog.objects.get(model="wallet.account", object_id=str(wallet.pk))
    assert balance_row.changes["balance"] == ["0.00", "7.00"]


def test_the_cached_balance_is_never_stale_after_a_posting() -> None:
    user = UserFactory()
    assert wallet_balance(user_id=user.pk)["balance"] == "0.00"
    credit(user, "12.34")
    assert wallet_balance(user_id=user.pk)["balance"] == "12.34"
    with transaction.atomic():
        credit(user, "1.00")
        assert wallet_balance(user_id=user.pk)["balance"] == "13.34"


def test_each_owner_gets_wallet_updated_after_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = UserFactory()
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(user.pk), channel)
    with django_capture_on_commit_callbacks(execute=False) as pending:
        credit(user, "3.00")
    assert pending  # nothing is sent before commit
    for callback in pending:
        callback()

    async def receive() -> Any:
        return await asyncio.wait_for(layer.receive(channel), timeout=5)

    event = async_to_sync(receive)()["event"]
    assert event["type"] == "wallet.updated"
    assert event["data"]["balance"] == "3.00"
    assert event["data"]["id"] == str(wallet_of(user_id=user.pk).pk)


def test_ledger_check_passes_on_a_sound_ledger_and_fails_naming_a_drifted_account() -> None:
    user = UserFactory()
    credit(user, "8.00")
    out = io.StringIO()
    call_command("ledger_check", stdout=out)
    assert "Ledger OK" in out.getvalue()
    wallet = wallet_of(user_id=user.pk)
    Account.objects.filter(pk=wallet.pk).update(balance=Decimal("9.00"))  # a silent drift
    with pytest.raises(CommandError) as failed:
        call_command("ledger_check", stdout=io.StringIO())
    assert str(wallet.pk) in str(failed.value)
    assert "all balances sum to 1.00" in str(failed.value)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_postgres_refuses_to_change_or_delete_ledger_rows_and_unbalanced_entries() -> None:
    assert connection.vendor == "postgresql"
    posted = credit(UserFactory(), "2.00")
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerTransaction.objects.filter(pk=posted.pk).update(note="edited")
    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.objects.filter(transaction=posted).update(amount=Decimal("3.00"))
    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.all_objects.filter(transaction=posted).hard_delete()
    with pytest.raises(DatabaseError), transaction.atomic():  # checked at commit
        lone = LedgerTransaction.objects.create(kind="adjustment", reference="x", dedupe_key="x")
        Entry.objects.create(
            transaction=lone,
            account=adjustments(),
            kind="adjustment",
            amount=Decimal("1.00"),
            balance_after=Decimal("1.00"),
        )
    assert not LedgerTransaction.objects.filter(dedupe_key="x").exists()
    assert ledger_report().ok


def test_the_daily_task_reports_a_broken_ledger_to_sentry(monkeypatch: Any) -> None:
    sent: list[str] = []
    monkeypatch.setattr(
        "apps.wallet.reconciliation.sentry_sdk.capture_message",
        lambda message, level: sent.append(f"{level}: {message}"),
    )
    user = UserFactory()
    credit(user, "4.00")
    assert ledger_check_task() is True
    assert sent == []
    wallet = wallet_of(user_id=user.pk)
    Account.objects.filter(pk=wallet.pk).update(balance=Decimal("3.00"))
    assert ledger_check_task() is False
    assert len(sent) == 1
    assert sent[0].startswith("error: ledger_check failed") and str(wallet.pk) in sent[0]


def test_admin_reads_the_ledger_and_a_superuser_posts_a_reasoned_adjustment(
    client: Any,
) -> None:
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    user = UserFactory()
    wallet = wallet_of(user_id=user.pk)
    client.force_login(admin_user)
    assert client.get("/admin/wallet/account/").status_code == 200
    assert client.get("/admin/wallet/ledgertransaction/").status_code == 200
    assert client.get(f"/admin/wallet/account/{wallet.pk}/change/").status_code == 200
    action = {"action": "post_adjustment", "_selected_action": [str(wallet.pk)]}
    form = client.post("/admin/wallet/account/", action)
    assert b"Manual adjustment" in form.content
    missing_reason = client.post(
        "/admin/wallet/account/", {**action, "apply": "1", "amount": "5.00", "reason": ""}
    )
    assert missing_reason.status_code == 200
    assert wallet_of(user_id=user.pk).balance == Decimal("0.00")
    done = client.post(
        "/admin/wallet/account/",
        {**action, "apply": "1", "amount": "5.00", "reason": "goodwill for ticket 42"},
    )
    assert done.status_code == 302
    posted = LedgerTransaction.objects.get(kind="adjustment")
    assert (posted.note, posted.actor) == ("goodwill for ticket 42", admin_user)
    assert wallet_of(user_id=user.pk).balance == Decimal("5.00")
    assert client.post(f"/admin/wallet/account/{wallet.pk}/delete/").status_code == 403


def test_the_adjustments_account_cannot_adjust_itself() -> None:
    from rest_framework.exceptions import ValidationError

    with pytest.raises(ValidationError):
        ledger_adjust(account=adjustments(), amount=Decimal("1.00"), reason="loop")
    assert not LedgerTransaction.objects.exists()


def test_staff_without_superuser_cannot_adjust(client: Any) -> None:
    staff = UserFactory(is_staff=True)
    api.grant(staff, "wallet.wallet")
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(Permission.objects.get(codename="view_account"))
    wallet = wallet_of(user_id=UserFactory().pk)
    client.force_login(staff)
    response = client.post(
        "/admin/wallet/account/",
        {
            "action": "post_adjustment",
            "_selected_action": [str(wallet.pk)],
            "apply": "1",
            "amount": "5.00",
            "reason": "x",
        },
    )
    assert response.status_code in (200, 302)
    assert not LedgerTransaction.objects.exists()
    assert uuid.UUID(str(wallet.pk))
