"""Smoke test of the production topology (`make cluster`): nginx with TLS in front of
gunicorn's two uvicorn workers, a real Celery worker and beat, PostgreSQL, Redis and an S3
server (moto), all under production settings.

Each test is a user's flow through nginx over HTTPS, checked by what the user sees: statuses,
envelopes, bytes in the object store, WebSocket frames. The Redis outage drill runs last
(it empties Redis) and brings Redis back. Run by `make cluster-smoke` (which starts and
stops the cluster) and by `.ci/run`.
"""

import uuid
from contextlib import ExitStack
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from websockets.sync.client import ClientConnection

from tests.cluster.conftest import SERVED_BY, Cluster, next_event, within
from tests.envelope import assert_error

pytestmark = pytest.mark.cluster

TASK_TIMEOUT = 60.0  # seconds a dispatched task may take on the real worker
OUTAGE_TIMEOUT = 30.0  # seconds readiness may take to follow Redis going and coming back
# A one-pixel transparent PNG: the upload factory sniffs the bytes, not the name.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def idempotency() -> dict[str, str]:
    """A fresh Idempotency-Key header."""
    return {"Idempotency-Key": str(uuid.uuid4())}


def me(cluster: Cluster, token: str) -> dict[str, Any]:
    """The caller's own profile."""
    return dict(cluster.ok("GET", "/api/v1/auth/me/", token=token).data)


def wallet_balance(cluster: Cluster, token: str) -> Decimal:
    """The caller's wallet balance."""
    return Decimal(cluster.ok("GET", "/api/v1/wallet/", token=token).data["balance"])


# ---------------------------------------------------------------------------------------------
# The front: TLS, redirects, static files, probes
# ---------------------------------------------------------------------------------------------
def test_plain_http_redirects_to_https_and_the_api_answers_over_tls(cluster: Cluster) -> None:
    answer = cluster.request("GET", f"{cluster.env['CLUSTER_HTTP_URL']}/api/v1/catalog/products/")
    assert answer.status == 301
    assert answer.headers["Location"].startswith(f"{cluster.url}/api/v1/catalog/products/")

    live = cluster.ok("GET", "/health/live/")
    assert live.data == {"status": "ok"}
    ready = cluster.ok("GET", "/health/ready/")
    assert set(ready.data["checks"].values()) == {"ok"}
    # Production settings behind the proxy: HSTS off for the cluster, but the scheme is seen as
    # https (no redirect loop, links built with https).
    products = cluster.ok("GET", "/api/v1/catalog/products/?page_size=1")
    assert products.body["meta"]["pagination"]["next"].startswith(f"{cluster.url}/")


def test_swagger_ui_and_its_static_files_are_served(cluster: Cluster) -> None:
    docs = cluster.request("GET", "/api/docs/")
    assert docs.status == 200
    assert "text/html" in docs.headers["Content-Type"]
    schema = cluster.request("GET", "/api/schema/")
    assert schema.status == 200 and schema.body["openapi"].startswith("3.")
    css = cluster.request("GET", "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css")
    assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")
    admin_css = cluster.request("GET", "/static/admin/css/base.css")
    assert admin_css.status == 200


def test_an_oversized_body_is_refused_by_nginx_in_the_envelope(
    cluster: Cluster, tokens: dict[str, str]
) -> None:
    body = b"x" * (12 * 1024 * 1024)  # over nginx's client_max_body_size (11 MB)
    answer = cluster.request(
        "POST",
        "/api/v1/catalog/products/",
        token=tokens["manager"],
        data=body,
        headers={"Content-Type": "application/json"},
    )
    assert_error(answer, 413, "payload_too_large")


# ---------------------------------------------------------------------------------------------
# Accounts and the catalog
# ---------------------------------------------------------------------------------------------
def test_a_newcomer_registers_logs_in_and_browses_the_catalog(
    cluster: Cluster, newcomer: dict[str, str]
) -> None:
    profile = me(cluster, newcomer["token"])
    assert profile["email"] == newcomer["email"] and profile["roles"] == ["customer"]

    categories = cluster.ok("GET", "/api/v1/catalog/categories/")
    assert categories.data
    page = cluster.ok("GET", "/api/v1/catalog/products/?page_size=5&ordering=price")
    assert len(page.data) == 5
    assert page.body["meta"]["pagination"]["count"] >= 5
    prices = [Decimal(p["price"]) for p in page.data]
    assert prices == sorted(prices)
    cursor = cluster.ok("GET", "/api/v1/catalog/products/?pagination=cursor&page_size=5")
    assert set(cursor.body["meta"]["pagination"]) == {"next", "previous"}

    product = page.data[0]
    detail = cluster.ok("GET", f"/api/v1/catalog/products/{product['id']}/")
    assert detail.data["sku"] == product["sku"]
    etag = detail.headers["ETag"]
    again = cluster.request(
        "GET", f"/api/v1/catalog/products/{product['id']}/", headers={"If-None-Match": etag}
    )
    assert again.status == 304


def test_a_product_is_created_and_its_image_lands_in_the_object_store(
    cluster: Cluster, tokens: dict[str, str]
) -> None:
    manager = tokens["manager"]
    category = cluster.ok("GET", "/api/v1/catalog/categories/").data[0]
    sku = f"SMOKE-{uuid.uuid4().hex[:8].upper()}"
    created = cluster.ok(
        "POST",
        "/api/v1/catalog/products/",
        201,
        token=manager,
        headers={"X-Forwarded-For": "203.0.113.66"},  # forged: nginx appends the real peer
        json={
            "category": category["id"],
            "name": f"Smoke lamp {sku}",
            "slug": f"smoke-lamp-{sku.lower()}",
            "sku": sku,
            "price": "19.90",
            "stock": 5,
            "tags": [],
        },
    )
    product_id = created.data["id"]
    assert created.data["version"] == 1 and created.data["image"] is None

    # The app sees the client nginx saw, never the forged address (throttles key on it too).
    audit = cluster.ok(
        "GET", f"/api/v1/audit-logs/?object_id={product_id}&action=create", token=tokens["admin"]
    ).data
    assert [row["ip"] for row in audit] == ["127.0.0.1"], audit

    uploaded = cluster.ok(
        "POST",
        f"/api/v1/catalog/products/{product_id}/image/",
        token=manager,
        files={"file": ("lamp.png", PNG, "image/png")},
    )
    assert uploaded.data

    detail = cluster.ok("GET", f"/api/v1/catalog/products/{product_id}/")
    image_url = detail.data["image"]
    s3_url = cluster.env["CLUSTER_S3_URL"]
    assert image_url.startswith(f"{s3_url}/{cluster.env['CLUSTER_BUCKET']}/"), image_url
    # Read back through the signed URL the API handed out, and straight from the bucket.
    assert cluster.session.get(image_url, timeout=10).content == PNG
    key = urlsplit(image_url).path.split("/", 2)[2]
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_url,
        region_name="us-east-1",
        aws_access_key_id="cluster",
        aws_secret_access_key="cluster",  # moto's throwaway credentials
    )
    stored = s3.get_object(Bucket=cluster.env["CLUSTER_BUCKET"], Key=key)
    assert stored["Body"].read() == PNG
    assert stored["ContentType"] == "image/png"


def sockets_on_both_workers(
    cluster: Cluster, stack: ExitStack, path: str, token: str, attempts: int = 24
) -> dict[str, ClientConnection]:
    """Open sockets until two different gunicorn workers hold one each (by X-Served-By);
    {worker pid: socket}, closed with `stack` (extra sockets are closed at once)."""
    held: dict[str, ClientConnection] = {}
    for _ in range(attempts):
        with ExitStack() as attempt:
            ws = attempt.enter_context(cluster.socket(path, token))
            pid = ws.response.headers[SERVED_BY]
            if pid not in held:
                held[pid] = ws
                stack.enter_context(attempt.pop_all())
        if len(held) == 2:  # the cluster's two workers
            return held
    pytest.fail(f"{attempts} sockets all landed on worker(s) {sorted(held)}")


def test_an_event_raised_on_one_worker_reaches_a_socket_held_by_the_other(
    cluster: Cluster, tokens: dict[str, str]
) -> None:
    manager = tokens["manager"]
    product = cluster.ok("GET", "/api/v1/catalog/products/?page_size=1").data[0]
    detail = cluster.ok("GET", f"/api/v1/catalog/products/{product['id']}/").data
    with ExitStack() as stack:
        sockets = sockets_on_both_workers(cluster, stack, "/ws/notifications/", manager)
        changed = cluster.ok(
            "PATCH",
            f"/api/v1/catalog/products/{product['id']}/",
            token=manager,
            json={"version": detail["version"], "stock": detail["stock"] + 1},
        )
        handled_by = changed.headers[SERVED_BY]
        other = next(pid for pid in sockets if pid != handled_by)
        for pid in (other, handled_by):  # the other worker's socket first: the claim here
            frame = next_event(
                sockets[pid],
                "product.changed",
                match=lambda data: any(p["id"] == product["id"] for p in data["products"]),
            )
            assert frame["data"]["action"] == "update"
            assert frame["at"]


# ---------------------------------------------------------------------------------------------
# Orders, wallet and chat: their main flows, with the real worker doing the background work
# ---------------------------------------------------------------------------------------------
def test_an_order_is_placed_paid_and_shipped_with_live_updates(
    cluster: Cluster, tokens: dict[str, str]
) -> None:
    customer, admin = tokens["customer"], tokens["admin"]
    product = next(
        p
        for p in cluster.ok("GET", "/api/v1/catalog/products/?page_size=50&ordering=price").data
        if p["stock"] >= 1 and p["is_active"]
    )
    balance_before = wallet_balance(cluster, customer)
    with (
        cluster.socket("/ws/notifications/", admin) as staff_ws,
        cluster.socket("/ws/notifications/", customer) as customer_ws,
    ):
        key = idempotency()
        payload = {
            "items": [{"product": product["id"], "quantity": 1}],
            "shipping_address": {
                "name": "Demo Customer",
                "line1": "1 Main Street",
                "line2": "",
                "city": "Springfield",
                "postal_code": "12345",
                "country": "US",
            },
            "note": "smoke",
        }
        placed = cluster.ok(
            "POST", "/api/v1/orders/", 201, token=customer, json=payload, headers=key
        )
        order = placed.data
        assert order["status"] == "pending" and order["number"].startswith("ORD-")
        replay = cluster.ok(
            "POST", "/api/v1/orders/", 201, token=customer, json=payload, headers=key
        )
        assert replay.headers["Idempotent-Replayed"] == "true" and replay.data["id"] == order["id"]
        next_event(staff_ws, "order.created", match=lambda data: data["id"] == order["id"])

        paid = cluster.ok(
            "POST", f"/api/v1/orders/{order['id']}/pay/", token=customer, headers=idempotency()
        )
        assert paid.data["status"] == "paid"
        assert wallet_balance(cluster, customer) == balance_before - Decimal(order["total"])

        shipped = cluster.ok(
            "POST",
            f"/api/v1/orders/{order['id']}/status/",
            token=admin,
            json={"status": "shipped", "version": paid.data["version"]},
        )
        assert shipped.data["status"] == "shipped"
        frame = next_event(
            customer_ws,
            "order.status_changed",
            match=lambda data: data["id"] == order["id"] and data["status"] == "shipped",
        )
        assert frame["data"]["number"] == order["number"]


def test_an_export_is_built_by_the_real_worker_and_downloaded_from_the_object_store(
    cluster: Cluster, tokens: dict[str, str]
) -> None:
    admin = tokens["admin"]
    with cluster.socket("/ws/notifications/", admin) as ws:
        started = cluster.ok(
            "POST", "/api/v1/orders/exports/", 202, token=admin, json={"format": "csv"}
        )
        export = started.data
        assert export["status"] == "pending" and export["file_url"] is None

        def finished() -> dict[str, Any] | None:
            current = cluster.ok("GET", f"/api/v1/orders/exports/{export['id']}/", token=admin)
            return current.data if current.data["status"] in {"done", "failed"} else None

        done = within(finished, TASK_TIMEOUT, "the export task")
        assert done["status"] == "done" and done["progress"] == 100, done
        next_event(
            ws,
            "export.progress",
            match=lambda data: data["id"] == export["id"] and data["status"] == "done",
        )
    assert done["file_url"].startswith(cluster.env["CLUSTER_S3_URL"])
    csv = cluster.session.get(done["file_url"], timeout=10)
    assert csv.status_code == 200
    assert "ORD-" in csv.text


def test_a_top_up_is_credited_by_the_signed_webhook_the_worker_delivers(
    cluster: Cluster, newcomer: dict[str, str], tokens: dict[str, str]
) -> None:
    token = newcomer["token"]
    assert wallet_balance(cluster, token) == Decimal("0.00")
    with cluster.socket("/ws/notifications/", token) as ws:
        top_up = cluster.ok(
            "POST",
            "/api/v1/wallet/top-ups/",
            201,
            token=token,
            json={"amount": "50.00"},
            headers=idempotency(),
        ).data
        assert top_up["status"] == "pending"
        checkout = top_up["checkout_url"]
        assert checkout.startswith(f"{cluster.url}/")
        # The payer's side: the provider's page, then "Pay" (a browser form with its CSRF token).
        page = cluster.session.get(checkout, verify=cluster.ca, timeout=10)
        assert page.status_code == 200
        csrf = cluster.session.cookies.get("csrftoken")
        assert csrf, "the checkout page set no CSRF cookie"
        decided = cluster.session.post(
            checkout,
            data={"decision": "pay", "csrfmiddlewaretoken": csrf},
            headers={"Referer": checkout},
            verify=cluster.ca,
            timeout=10,
        )
        assert decided.status_code == 200, decided.text[:300]
        # The worker signs and posts the webhook through nginx; the wallet is credited once.
        frame = next_event(ws, "wallet.updated", match=lambda data: data["balance"] == "50.00")
        assert frame["data"]["currency"]
    credited = cluster.ok("GET", f"/api/v1/wallet/top-ups/{top_up['id']}/", token=token).data
    assert credited["status"] == "completed", credited
    assert wallet_balance(cluster, token) == Decimal("50.00")

    customer_before = wallet_balance(cluster, tokens["customer"])
    transfer = cluster.ok(
        "POST",
        "/api/v1/wallet/transfers/",
        201,
        token=token,
        json={"to": "customer@example.com", "amount": "10.00", "note": "smoke"},
        headers=idempotency(),
    ).data
    assert transfer["amount"] == "10.00"
    assert wallet_balance(cluster, token) == Decimal("40.00")
    assert wallet_balance(cluster, tokens["customer"]) == customer_before + Decimal("10.00")
    history = cluster.ok("GET", "/api/v1/wallet/transactions/", token=token).data
    assert [row["kind"] for row in history[:2]] == ["transfer_out", "top_up"]


def test_a_chat_message_posted_over_http_reaches_the_other_member_live(
    cluster: Cluster, newcomer: dict[str, str], tokens: dict[str, str]
) -> None:
    customer = tokens["customer"]
    customer_id = me(cluster, customer)["id"]
    room = cluster.ok(
        "POST",
        "/api/v1/chat/rooms/",
        201,
        token=newcomer["token"],
        json={"kind": "direct", "members": [customer_id]},
    ).data
    with cluster.socket(f"/ws/chat/{room['id']}/", customer) as ws:
        client_id = str(uuid.uuid4())
        sent = cluster.ok(
            "POST",
            f"/api/v1/chat/rooms/{room['id']}/messages/",
            201,
            token=newcomer["token"],
            json={"body": "Hello from the smoke test", "client_id": client_id},
        ).data
        frame = next_event(ws, "message.new", match=lambda _: True)
        assert frame["message"]["id"] == sent["id"]
        assert frame["message"]["body"] == "Hello from the smoke test"
        assert frame["message"]["sender"]["id"] == newcomer["id"]
    rooms = cluster.ok("GET", "/api/v1/chat/rooms/", token=customer).data
    assert next(r for r in rooms if r["id"] == room["id"])["unread_count"] == 1


# ---------------------------------------------------------------------------------------------
# Redis outage drill (last: it empties Redis)
# ---------------------------------------------------------------------------------------------
def test_readiness_follows_redis_and_public_reads_survive_its_outage(
    cluster: Cluster, tokens: dict[str, str]
) -> None:
    def readiness() -> int:
        return cluster.request("GET", "/health/ready/").status

    cluster.control("redis-stop")
    try:
        within(lambda: readiness() == 503, OUTAGE_TIMEOUT, "ready → 503")
        down = cluster.request("GET", "/health/ready/")
        assert_error(down, 503, "service_unavailable", "cache")
        for path in (
            "/api/v1/catalog/products/?page_size=10",
            "/api/v1/catalog/categories/",
            "/api/v1/catalog/banners/",
        ):
            cluster.ok("GET", path)
        cluster.ok("GET", "/api/v1/auth/me/", token=tokens["customer"])
    finally:
        cluster.control("redis-start")
    within(lambda: readiness() == 200, OUTAGE_TIMEOUT, "ready → 200 again")
    cluster.ok("GET", "/api/v1/catalog/products/?page_size=10")
