"""What the wallet tells `/ws/notifications/` sockets (docs/websockets.md): `wallet.updated`,
whose data is the wallet as `GET /api/v1/wallet/` shows it."""

from apps.core.platform.ws.events import notification_event
from apps.wallet.serializers import WalletSerializer

WALLET_UPDATED = notification_event(
    name="wallet.updated",
    audience="The wallet's owner.",
    data=WalletSerializer,
    description=(
        "The balance changed (a top-up, a transfer in or out, an order paid or refunded); "
        "`data` is the wallet as `GET /api/v1/wallet/` answers it."
    ),
)
