"""Wallet endpoints: HTTP only, one service or selector call each (DESIGN.md: Wallet).

Every endpoint is the caller's own wallet, whatever their RBAC scope: the feature
`wallet.wallet` decides who may use the wallet at all (`retrieve` to read, `create` to top up
and transfer). Top-ups and transfers need an Idempotency-Key and share the strict `payments`
throttle with order payment. Provider webhooks are anonymous and proven by their signature.
"""

from typing import TYPE_CHECKING, Any, cast

from django.db import models
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import status as http_status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.exceptions import AmountMismatch, InsufficientFunds, LimitExceeded, WebhookRejected
from apps.core.http.envelope import AppResponse
from apps.core.http.openapi import ErrorEnvelopeSerializer
from apps.core.http.pagination import AppCursorPagination
from apps.core.http.permissions import HasFeaturePermission
from apps.core.http.throttles import SCOPED_THROTTLES, AtomicScopedRateThrottle
from apps.core.http.views import AppAPIView, AppModelListAPIViewSet, AppModelRetrieveAPIViewSet
from apps.wallet.filters import EntryFilter
from apps.wallet.selectors import (
    entry_list,
    entry_list_of,
    top_up_list,
    top_up_list_of,
    wallet_balance,
)
from apps.wallet.serializers import (
    TopUpCreateSerializer,
    TopUpSerializer,
    TransferCreateSerializer,
    TransferSerializer,
    WalletEntrySerializer,
    WalletSerializer,
    WebhookOutcomeSerializer,
)
from apps.wallet.services import top_up_create, top_up_webhook_apply, wallet_transfer

if TYPE_CHECKING:
    from apps.accounts.models import User

FEATURE = "wallet.wallet"
TAGS = ["wallet"]
UUID_PATTERN = "[0-9a-fA-F-]{36}"
PAYMENTS_THROTTLE_SCOPE = "payments"


def caller(request: Request) -> "User":
    """The signed-in user of a request that passed the feature permission."""
    return cast("User", request.user)


class WalletAPIView(AppAPIView):
    """`GET /wallet/`: the caller's balance (cached until the next entry on the wallet)."""

    feature = FEATURE
    permission_classes = (HasFeaturePermission,)

    @extend_schema(
        summary="Get my wallet",
        description=(
            "The signed-in user's wallet: currency, balance (a decimal string) and when it last "
            "changed."
        ),
        tags=TAGS,
        responses={200: WalletSerializer},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The caller's wallet: id, currency, balance, last change."""
        return self.send_response(wallet_balance(user_id=caller(request).pk))


class WalletEntryCursorPagination(AppCursorPagination):
    """Newest first, stable under inserts (`?cursor=`)."""

    ordering = ("-created_at", "-id")


class WalletTransactionViewSet(AppModelListAPIViewSet):
    """`GET /wallet/transactions/`: the caller's movements, newest first, in cursor pages."""

    feature = FEATURE
    owner_field = "account__owner"
    queryset = entry_list()
    serializer_classes = {"list": WalletEntrySerializer}
    filterset_class = EntryFilter
    filter_backends = (DjangoFilterBackend,)  # the cursor fixes the order
    pagination_class = WalletEntryCursorPagination

    def get_base_queryset(self) -> models.QuerySet[Any]:
        """The caller's own wallet, whatever their scope."""
        return entry_list_of(user_id=caller(self.request).pk)

    @extend_schema(
        summary="List my wallet's movements",
        description=(
            "Every movement on the caller's wallet, newest first: `amount` is signed as the wallet"
            " sees it, `balance_after` is the balance right after it. Filter by `kind` and by "
            "local days (`created_from`, `created_to`, `tz`)."
        ),
        tags=TAGS,
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Movements on the caller's wallet; `amount` is signed as the wallet sees it."""
        return super().list(request, *args, **kwargs)


class TopUpViewSet(AppModelRetrieveAPIViewSet):
    """`POST /wallet/top-ups/` opens a checkout at the payment provider; the wallet is
    credited when the provider's signed webhook confirms it. `GET /wallet/top-ups/{id}/`."""

    feature = FEATURE
    owner_field = "user"
    queryset = top_up_list()
    serializer_classes = {"retrieve": TopUpSerializer, "create": TopUpCreateSerializer}
    idempotent_actions = ("create",)
    throttle_classes = SCOPED_THROTTLES
    throttle_scope: str | None = None  # `payments` on create (see get_throttles)
    lookup_value_regex = UUID_PATTERN

    def get_base_queryset(self) -> models.QuerySet[Any]:
        """The caller's own top-ups, whatever their scope."""
        return top_up_list_of(user_id=caller(self.request).pk)

    def get_throttles(self) -> list[Any]:
        """The strict `payments` rate on create, the global rates on reads."""
        self.throttle_scope = PAYMENTS_THROTTLE_SCOPE if self.action == "create" else None
        return super().get_throttles()

    @extend_schema(
        summary="Get a top-up",
        description=(
            "One of the caller's top-ups and its status (`pending` until the payment provider "
            "confirms it)."
        ),
        tags=TAGS,
        responses={200: TopUpSerializer},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One of the caller's top-ups (another user's is 404)."""
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Top up my wallet",
        description=(
            "Opens a checkout at the payment provider for `amount`: send the user to "
            "`checkout_url`. The wallet is credited when the provider confirms the payment (a "
            "`wallet.updated` event follows)."
        ),
        tags=TAGS,
        request=TopUpCreateSerializer,
        responses={201: TopUpSerializer, 429: ErrorEnvelopeSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Start a top-up (needs an Idempotency-Key): pay at `checkout_url`."""
        serializer = TopUpCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        top_up = top_up_create(user=caller(request), amount=serializer.validated_data["amount"])
        answer = TopUpSerializer(top_up).data
        return AppResponse(answer, status=http_status.HTTP_201_CREATED)


class TransferAPIView(AppAPIView):
    """`POST /wallet/transfers/`: money to another user by email (needs an Idempotency-Key)."""

    feature = FEATURE
    permission_classes = (HasFeaturePermission,)
    throttle_classes = SCOPED_THROTTLES
    throttle_scope = PAYMENTS_THROTTLE_SCOPE
    idempotent_methods = ("POST",)

    documented_errors = {"post": (InsufficientFunds, LimitExceeded)}  # for the schema

    @extend_schema(
        summary="Send money to another user",
        description=(
            "Moves `amount` from the caller's wallet to the user with email `to`, at once. Not "
            "enough money is a 409 `insufficient_funds`, a daily limit a 409 `limit_exceeded`; an "
            "unknown recipient or oneself is a 400 on `to`."
        ),
        tags=TAGS,
        request=TransferCreateSerializer,
        responses={201: TransferSerializer, 409: ErrorEnvelopeSerializer},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Transfer; 409 `insufficient_funds` or `limit_exceeded`, 400 on `to` when the
        recipient is not found or is the caller."""
        serializer = TransferCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        sender = caller(request)
        transfer = wallet_transfer(
            sender=sender,
            to_email=data["to"],
            amount=data["amount"],
            note=data["note"],
            request_key=request.headers.get("Idempotency-Key", ""),
        )
        return self.send_response(
            TransferSerializer(transfer).data, status=http_status.HTTP_201_CREATED
        )


class ProviderWebhookAPIView(AppAPIView):
    """`POST /wallet/webhooks/<provider>/`: the payment provider reports a payment.

    No token: the HMAC-SHA256 signature of the raw body (`X-Signature`) proves the sender,
    and the event's timestamp must be recent. Each event id is applied once.
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)
    # Its own generous rate per address, not the anonymous one: a provider delivers bursts
    # from a few addresses, and a refused delivery only delays a credit.
    throttle_classes = (AtomicScopedRateThrottle,)
    throttle_scope = "webhooks"

    documented_errors = {"post": (WebhookRejected, AmountMismatch)}  # for the schema

    @extend_schema(
        summary="Payment provider webhook",
        description=(
            "For the payment provider only: a signed event (HMAC-SHA256 of the raw body in "
            "`X-Signature`) that confirms or fails a top-up. Each event is applied once; a bad "
            "signature or an old timestamp is a 401."
        ),
        tags=TAGS,
        request={"application/json": {"type": "object"}},
        responses={200: WebhookOutcomeSerializer, 401: ErrorEnvelopeSerializer},
    )
    def post(self, request: Request, provider: str, *args: Any, **kwargs: Any) -> Response:
        """Apply a signed provider event; 401 bad signature or old event, 409 amount mismatch."""
        outcome = top_up_webhook_apply(
            provider_name=provider, body=request.body, headers=request.headers
        )
        return self.send_response(WebhookOutcomeSerializer(outcome).data)
