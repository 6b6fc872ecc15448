"""Top-ups: a checkout at the provider, credited only by its signed webhook, once."""

import time
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.utils import timezone

from apps.wallet.models import FakePayment, FakePaymentStatus, LedgerTransaction, TopUp
from apps.wallet.services import top_up_recheck, top_ups_expire
from apps.wallet.tasks import fake_webhook_deliver, top_ups_recheck_task
from tests import api_cases as api
from tests.envelope import assert_envelope, assert_error
from tests.factories import UserFactory
from tests.wallet import factories as f

pytestmark = pytest.mark.django_db
WEBHOOK = "wallet-webhook"


def deliver(body: bytes, secret: str | None = None) -> Any:
    """POST a webhook body as the fake provider would (signed unless `secret` differs)."""
    return api.client_for(None).generic(
        "POST",
        api.api_url(WEBHOOK, provider="fake"),
        body,
        content_type="application/json",
        **f.signed_meta(body, secret),
    )


def test_a_top_up_starts_pending_with_a_checkout_page(member: Any) -> None:
    client = api.client_for(member, idempotency_key=f.idempotency_key())
    body = assert_envelope(client.post(api.api_url("wallet-top-up-list"), {"amount": "50.00"}), 201)
    data = body["data"]
    assert set(data) == {"id", "status", "amount", "provider", "checkout_url", "created_at"}
    assert (data["status"], data["amount"], data["provider"]) == ("pending", "50.00", "fake")
    page = api.client_for(None).get(urlsplit(data["checkout_url"]).path)
    assert page.status_code == 200
    assert b"50.00 USD" in page.content
    assert f.balance(member) == Decimal("0.00")


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ('"0"', "min_value"),
        ('"-1"', "min_value"),
        ('"1.001"', "max_decimal_places"),
        ('"abc"', "invalid"),
        ("1e309", "invalid"),  # a JSON number beyond float: infinity
        ('"10000.01"', "max_value"),
        ("null", "null"),
    ],
)
def test_bad_amounts_are_400_on_amount(member: Any, amount: str, code: str) -> None:
    client = api.client_for(member, idempotency_key=f.idempotency_key())
    body = '{"amount": %s}' % amount  # noqa: UP031 - raw JSON, some of it not Python's
    response = client.generic(
        "POST", api.api_url("wallet-top-up-list"), body, content_type="application/json"
    )
    assert_error(response, 400, code, "amount")
    assert not TopUp.objects.exists()


def test_a_top_up_needs_an_idempotency_key(member: Any) -> None:
    response = api.client_for(member).post(api.api_url("wallet-top-up-list"), {"amount": "5"})
    assert_error(response, 400, "idempotency_key_required")


def test_the_signed_webhook_credits_once_and_a_redelivery_changes_nothing(member: Any) -> None:
    pending = f.top_up(member, "40.00")
    body = f.event_body(pending, event_id="evt_once")
    first = assert_envelope(deliver(body), 200)
    again = assert_envelope(deliver(body), 200)
    assert (first["data"]["outcome"], again["data"]["outcome"]) == ("applied", "duplicate")
    assert f.balance(member) == Decimal("40.00")
    pending.refresh_from_db()
    assert pending.status == "completed" and pending.ledger_transaction is not None
    other_event = f.event_body(pending, event_id="evt_other")  # a second success: ignored
    assert assert_envelope(deliver(other_event), 200)["data"]["outcome"] == "ignored"
    assert LedgerTransaction.objects.filter(kind="top_up").count() == 1


def test_a_bad_signature_is_401_and_credits_nothing(member: Any) -> None:
    pending = f.top_up(member)
    assert_error(deliver(f.event_body(pending), secret="not-the-secret"), 401, "invalid_signature")
    unsigned = api.client_for(None).post(
        api.api_url(WEBHOOK, provider="fake"), {"id": "x"}, format="json"
    )
    assert_error(unsigned, 401, "invalid_signature")
    assert f.balance(member) == Decimal("0.00")
    assert TopUp.objects.get(pk=pending.pk).status == "pending"


@pytest.mark.parametrize("age", [301, -301, 3600])
def test_an_event_outside_five_minutes_is_refused(member: Any, age: int) -> None:
    pending = f.top_up(member)
    body = f.event_body(pending, created=int(time.time()) - age)
    assert_error(deliver(body), 401, "webhook_expired")
    assert f.balance(member) == Decimal("0.00")


def test_another_amount_or_currency_is_409_and_credits_nothing(member: Any) -> None:
    pending = f.top_up(member, "40.00")
    assert_error(deliver(f.event_body(pending, amount="400.00")), 409, "amount_mismatch")
    assert_error(deliver(f.event_body(pending, currency="EUR")), 409, "amount_mismatch")
    assert f.balance(member) == Decimal("0.00")
    assert TopUp.objects.get(pk=pending.pk).status == "pending"
    assert assert_envelope(deliver(f.event_body(pending)), 200)["data"]["outcome"] == "applied"


def test_a_failed_payment_fails_the_top_up(member: Any) -> None:
    pending = f.top_up(member)
    body = f.event_body(pending, event_type="payment.failed")
    assert assert_envelope(deliver(body), 200)["data"]["outcome"] == "failed"
    assert TopUp.objects.get(pk=pending.pk).status == "failed"
    assert f.balance(member) == Decimal("0.00")


def test_unknown_references_and_providers_are_404(member: Any) -> None:
    pending = f.top_up(member)
    pending.provider_reference = "fake_nobody"
    assert_error(deliver(f.event_body(pending)), 404, "not_found")
    response = api.client_for(None).generic(
        "POST", api.api_url(WEBHOOK, provider="acme"), b"{}", content_type="application/json"
    )
    assert_error(response, 404, "not_found")


def test_another_users_top_up_is_404(member: Any, other: Any) -> None:
    theirs = f.top_up(other)
    response = api.client_for(member).get(api.api_url("wallet-top-up-detail", pk=theirs.pk))
    assert_error(response, 404, "not_found")


def test_the_recheck_credits_a_paid_top_up_whose_webhook_was_lost(member: Any) -> None:
    pending = f.top_up(member, "15.00")
    assert top_up_recheck(top_up_id=pending.pk) == "pending"
    FakePayment.objects.filter(reference=pending.provider_reference).update(
        status=FakePaymentStatus.PAID
    )
    assert top_up_recheck(top_up_id=pending.pk) == "applied"
    assert top_up_recheck(top_up_id=pending.pk) == "ignored"
    assert f.balance(member) == Decimal("15.00")


def test_top_ups_pending_a_day_expire_and_their_checkout_closes(member: Any) -> None:
    old, fresh = f.top_up(member), f.top_up(member)
    TopUp.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    assert top_ups_expire() == 1
    assert [t.status for t in TopUp.objects.order_by("created_at")] == ["failed", "pending"]
    payment = FakePayment.objects.get(reference=old.provider_reference)
    assert payment.status == FakePaymentStatus.DECLINED  # can no longer be paid
    assert f.balance(member) == Decimal("0.00")
    assert fresh.status == "pending"


def test_a_top_up_paid_just_before_expiry_is_credited_not_expired(member: Any) -> None:
    paid = f.top_up(member, "20.00")
    TopUp.objects.filter(pk=paid.pk).update(created_at=timezone.now() - timedelta(hours=25))
    FakePayment.objects.filter(reference=paid.provider_reference).update(
        status=FakePaymentStatus.PAID
    )
    assert top_ups_expire() == 0
    assert TopUp.objects.get(pk=paid.pk).status == "completed"
    assert f.balance(member) == Decimal("20.00")


def test_a_success_reported_after_the_top_up_failed_is_still_credited_once(member: Any) -> None:
    pending = f.top_up(member, "12.00")
    declined = f.event_body(pending, event_type="payment.failed")
    assert assert_envelope(deliver(declined), 200)["data"]["outcome"] == "failed"
    retried = f.event_body(pending)  # the card was retried: the provider holds the money
    assert assert_envelope(deliver(retried), 200)["data"]["outcome"] == "applied"
    assert assert_envelope(deliver(f.event_body(pending)), 200)["data"]["outcome"] == "ignored"
    assert f.balance(member) == Decimal("12.00")


def test_a_non_ascii_or_garbage_signature_is_401(member: Any) -> None:
    body = f.event_body(f.top_up(member))
    response = api.client_for(None).generic(
        "POST",
        api.api_url(WEBHOOK, provider="fake"),
        body,
        content_type="application/json",
        HTTP_X_SIGNATURE="\u00e9\u00e9\u00e9",
    )
    assert_error(response, 401, "invalid_signature")


def test_a_signed_body_with_an_absurd_timestamp_is_400(member: Any) -> None:
    pending = f.top_up(member)
    body = f.event_body(pending).replace(b'"created": ', b'"created": 1e999, "x": ')
    assert_envelope(deliver(body), 400)


@pytest.mark.django_db(transaction=True)
def test_paying_on_the_fake_checkout_page_sends_the_signed_webhook_over_http(
    live_server: Any, settings: Any
) -> None:
    """The whole flow through real HTTP: top-up, checkout page, Pay, the provider's
    webhook delivered to the live server, the wallet credited."""
    settings.PUBLIC_BASE_URL = live_server.url
    user = UserFactory()
    api.grant(user, f.FEATURE, ("create", "retrieve"), scope="own")
    session = requests.Session()
    headers = {"Authorization": api.bearer(user), "Idempotency-Key": f.idempotency_key()}
    created = session.post(
        f"{live_server.url}{api.api_url('wallet-top-up-list')}",
        json={"amount": "33.00"},
        headers=headers,
        timeout=10,
    ).json()["data"]
    page = session.get(created["checkout_url"], timeout=10)
    token = page.cookies.get("csrftoken") or session.cookies.get("csrftoken")
    paid = session.post(
        created["checkout_url"],
        data={"decision": "pay", "csrfmiddlewaretoken": token},
        headers={"Referer": created["checkout_url"]},
        timeout=10,
    )
    assert b"Payment confirmed" in paid.content
    detail = f"{live_server.url}{api.api_url('wallet-top-up-detail', pk=created['id'])}"
    deadline = time.monotonic() + 15
    status = "pending"
    while status == "pending" and time.monotonic() < deadline:  # the delivery thread's POST
        status = session.get(detail, headers=headers, timeout=10).json()["data"]["status"]
    assert status == "completed"
    assert f.balance(user) == Decimal("33.00")


def test_the_delivery_task_posts_the_signed_body(live_server: Any, settings: Any) -> None:
    pending = f.top_up(UserFactory(), "9.00")
    url = f"{live_server.url}{api.api_url(WEBHOOK, provider='fake')}"
    assert fake_webhook_deliver(url, f.event_body(pending).decode()) == 200
    with pytest.raises(ConnectionError):
        fake_webhook_deliver("http://127.0.0.1:9/nothing/", "{}")


def test_beat_rechecks_only_top_ups_pending_past_the_delay(member: Any, settings: Any) -> None:
    settings.TOP_UP_RECHECK_AFTER_SECONDS = 120
    stale, fresh = f.top_up(member, "7.00"), f.top_up(member, "8.00")
    TopUp.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    FakePayment.objects.update(status=FakePaymentStatus.PAID)  # both paid, webhooks lost
    assert top_ups_recheck_task() == 1  # eager: the queued re-check ran
    assert TopUp.objects.get(pk=stale.pk).status == "completed"
    assert TopUp.objects.get(pk=fresh.pk).status == "pending"
    assert f.balance(member) == Decimal("7.00")
