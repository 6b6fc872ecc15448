"""Transfers: to another user by email, limited per day, never below zero."""

from decimal import Decimal
from typing import Any

import pytest

from apps.wallet.models import Entry, LedgerTransaction
from tests import api_cases as api
from tests.envelope import assert_envelope, assert_error
from tests.factories import UserFactory
from tests.wallet import factories as f

pytestmark = pytest.mark.django_db
RECIPIENT_NOT_FOUND = "Recipient not found."


def transfer(user: Any, body: dict[str, Any], key: str | None = None) -> Any:
    """POST a transfer as `user` with a fresh (or the given) Idempotency-Key."""
    client = api.client_for(user, idempotency_key=key or f.idempotency_key())
    return client.post(api.api_url("wallet-transfers"), body, format="json")


def test_a_transfer_moves_money_and_both_sides_see_it(member: Any, other: Any) -> None:
    f.funded(member, "50.00")
    body = {"to": other.email.upper(), "amount": "12.50", "note": "lunch"}
    data = assert_envelope(transfer(member, body), 201)["data"]
    assert data["to"] == {"id": str(other.pk), "name": "Grace Hopper"}
    assert (data["amount"], data["note"]) == ("12.50", "lunch")
    assert (f.balance(member), f.balance(other)) == (Decimal("37.50"), Decimal("12.50"))
    mine = assert_envelope(api.client_for(member).get(api.api_url("wallet-transaction-list")), 200)
    out = mine["data"][0]
    assert (out["id"], out["kind"], out["amount"], out["balance_after"]) == (
        data["id"],
        "transfer_out",
        "-12.50",
        "37.50",
    )
    assert out["counterparty"] == {"id": str(other.pk), "name": "Grace Hopper"}
    theirs = api.client_for(other).get(api.api_url("wallet-transaction-list"))
    row = assert_envelope(theirs, 200)["data"][0]
    assert (row["kind"], row["amount"], row["counterparty"]["id"]) == (
        "transfer_in",
        "12.50",
        str(member.pk),
    )


def test_a_replayed_key_moves_money_once(member: Any, other: Any) -> None:
    f.funded(member, "50.00")
    body = {"to": other.email, "amount": "10.00"}
    first = transfer(member, body, key="pay-grace")
    again = transfer(member, body, key="pay-grace")
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["data"] == first.json()["data"]
    assert f.balance(other) == Decimal("10.00")
    assert_error(
        transfer(member, {**body, "amount": "11.00"}, key="pay-grace"),
        422,
        "idempotency_key_reused",
    )


@pytest.mark.parametrize("to", ["nobody@example.com", "SELF"])
def test_unknown_and_self_recipients_are_400_on_to(member: Any, to: str) -> None:
    f.funded(member, "50.00")
    response = transfer(member, {"to": member.email if to == "SELF" else to, "amount": "1.00"})
    body = assert_envelope(response, 400)
    assert [e["attr"] for e in body["errors"]] == ["to"]
    if to != "SELF":
        assert body["errors"][0]["detail"] == RECIPIENT_NOT_FOUND
    assert f.balance(member) == Decimal("50.00")


def test_an_inactive_recipient_is_not_found_either(member: Any) -> None:
    gone = UserFactory(is_active=False)
    response = transfer(member, {"to": gone.email, "amount": "1.00"})
    assert assert_envelope(response, 400)["errors"][0]["detail"] == RECIPIENT_NOT_FOUND


@pytest.mark.parametrize("amount", ["0", "-1", "1.001", "abc", "", "1000000000000.00"])
def test_bad_amounts_are_400_on_amount(member: Any, other: Any, amount: str) -> None:
    response = transfer(member, {"to": other.email, "amount": amount})
    assert "amount" in [e["attr"] for e in assert_envelope(response, 400)["errors"]]


def test_more_than_the_balance_is_409_insufficient_funds(member: Any, other: Any) -> None:
    f.funded(member, "5.00")
    assert_error(transfer(member, {"to": other.email, "amount": "5.01"}), 409, "insufficient_funds")
    assert (f.balance(member), f.balance(other)) == (Decimal("5.00"), Decimal("0.00"))
    assert not LedgerTransaction.objects.filter(kind="transfer").exists()


def test_daily_count_and_amount_limits_are_409(member: Any, other: Any, settings: Any) -> None:
    settings.TRANSFER_DAILY_COUNT = 2
    settings.TRANSFER_DAILY_AMOUNT = Decimal("30.00")
    f.funded(member, "100.00")
    assert transfer(member, {"to": other.email, "amount": "20.00"}).status_code == 201
    body = assert_error(
        transfer(member, {"to": other.email, "amount": "10.01"}), 409, "limit_exceeded"
    )
    assert "10.00 is left" in body["errors"][0]["detail"]
    assert transfer(member, {"to": other.email, "amount": "10.00"}).status_code == 201
    assert_error(transfer(member, {"to": other.email, "amount": "0.01"}), 409, "limit_exceeded")
    assert Entry.objects.filter(kind="transfer_out").count() == 2


def test_the_transactions_list_filters_by_kind_and_local_days(member: Any, other: Any) -> None:
    f.funded(member, "50.00")
    transfer(member, {"to": other.email, "amount": "1.00"})
    client = api.client_for(member)
    url = api.api_url("wallet-transaction-list")
    kinds = [r["kind"] for r in assert_envelope(client.get(url), 200)["data"]]
    assert kinds == ["transfer_out", "top_up"]
    only = assert_envelope(client.get(url, {"kind": "top_up"}), 200)["data"]
    assert [r["kind"] for r in only] == ["top_up"]
    assert_error(client.get(url, {"tz": "Mars/Olympus"}), 400, "invalid", "tz")
    assert_error(client.get(url, {"kind": "gift"}), 400, "invalid_choice", "kind")
    past = assert_envelope(client.get(url, {"created_to": "2000-01-01"}), 200)
    assert past["data"] == []


@pytest.mark.parametrize("bound", ["created_from", "created_to"])
def test_days_beyond_the_calendar_are_400(member: Any, bound: str) -> None:
    url = api.api_url("wallet-transaction-list")
    query = {bound: "9999-12-31", "tz": "Pacific/Kiritimati"}
    assert_error(api.client_for(member).get(url, query), 400, "invalid", bound)
