"""Wallet payloads and representations (DESIGN.md: Wallet)."""

from decimal import Decimal

from django.conf import settings
from rest_framework import serializers

from apps.core.http.serializers import AppReadOnlyModelSerializer, AppSerializer
from apps.wallet.models import DECIMAL_PLACES, MAX_DIGITS, Entry, TopUp

MIN_AMOUNT = Decimal("0.01")


def amount_field(*, max_value: Decimal | None = None) -> serializers.DecimalField:
    """A positive amount with at most 2 decimals, sent as a string ("10.00")."""
    return serializers.DecimalField(
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        min_value=MIN_AMOUNT,
        max_value=max_value,
        help_text='A positive amount with at most 2 decimals, as a string, e.g. "10.00".',
    )


class WalletSerializer(AppSerializer):
    """The caller's wallet: `GET /wallet/` and the `wallet.updated` event's data."""

    id = serializers.UUIDField(read_only=True)
    currency = serializers.CharField(read_only=True)
    balance = serializers.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, read_only=True
    )
    updated_at = serializers.DateTimeField(read_only=True)


class CounterpartySerializer(AppSerializer):
    """The other user of a transfer."""

    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)


class WalletEntrySerializer(AppReadOnlyModelSerializer):
    """One movement as the wallet sees it: `amount` is signed, `id` is the transaction's."""

    id = serializers.UUIDField(source="transaction_id", read_only=True)
    reference = serializers.CharField(source="transaction.reference", read_only=True)
    counterparty = CounterpartySerializer(read_only=True, allow_null=True)

    class Meta:
        model = Entry
        fields = (
            "id",
            "kind",
            "amount",
            "balance_after",
            "reference",
            "counterparty",
            "created_at",
        )


class TopUpCreateSerializer(AppSerializer):
    """`POST /wallet/top-ups/`: how much to add."""

    amount = amount_field(max_value=Decimal(settings.TOP_UP_MAX_AMOUNT))


class TopUpSerializer(AppReadOnlyModelSerializer):
    """A top-up: pending until the provider's webhook says paid (completed) or not (failed)."""

    class Meta:
        model = TopUp
        fields = ("id", "status", "amount", "provider", "checkout_url", "created_at")


class TransferCreateSerializer(AppSerializer):
    """`POST /wallet/transfers/`: the recipient's email, the amount and an optional note."""

    to = serializers.EmailField(max_length=254)
    amount = amount_field()
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class TransferSerializer(AppSerializer):
    """A posted transfer."""

    id = serializers.UUIDField(read_only=True)
    amount = serializers.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, read_only=True
    )
    to = CounterpartySerializer(read_only=True)
    note = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class WebhookOutcomeSerializer(AppSerializer):
    """What a webhook delivery did: `applied`, `failed`, `pending`, `ignored`, `duplicate`."""

    event_id = serializers.CharField(read_only=True)
    outcome = serializers.CharField(read_only=True)
