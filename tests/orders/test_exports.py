"""Order exports: 202 at once, a task that streams the requester's orders into CSV or XLSX with
progress events, time-limited download links, and the purge of old files."""

import asyncio
import csv
import io
import itertools
import os
import time
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core import signing
from django.core.files.storage import default_storage
from django.db import OperationalError, transaction
from django.utils import timezone

from apps.core.http.filters import RANGE_MESSAGE, UNKNOWN_TZ_MESSAGE
from apps.core.platform.tasks import AppTask
from apps.core.platform.ws.consumers import user_group
from apps.orders import exports, views
from apps.orders.exports import (
    EXPIRED_MESSAGE,
    EXPORT_PROGRESS,
    FAILED_MESSAGE,
    FORBIDDEN_MESSAGE,
    INVALID_LINK_MESSAGE,
    NO_FILE_MESSAGE,
    STALLED_MESSAGE,
    TIMEOUT_MESSAGE,
    order_export_run,
    order_exports_purge,
)
from apps.orders.models import ExportStatus, Order, OrderExport, OrderItem, OrderStatus
from apps.orders.selectors import EXPORT_COLUMNS
from apps.orders.tasks import order_export_write
from config.celery import app
from tests import api_cases as api
from tests.catalog.factories import ProductFactory
from tests.envelope import assert_envelope, assert_error
from tests.factories import UserFactory
from tests.orders import factories as f
from tests.processes import celery_worker, moto_s3, tasks_sent_to_the_broker

pytestmark = pytest.mark.django_db
FEATURE = "orders.orders"
UTC_ZONE = ZoneInfo("UTC")


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    """Export files go to a folder of this test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


def exports_url() -> str:
    """The exports collection."""
    return api.api_url("orders-export-list")


def export_url(export_id: Any) -> str:
    """One export."""
    return api.api_url("orders-export-detail", pk=export_id)


def request_export(user: Any, payload: dict[str, Any], capture: Any) -> dict[str, Any]:
    """POST an export as `user` (202), letting its on-commit dispatch run; the answer's data."""
    with capture(execute=True):
        response = api.client_for(user).post(exports_url(), payload, format="json")
    return assert_envelope(response, 202)["data"]


def read_back(user: Any, export_id: Any) -> dict[str, Any]:
    """GET the export as `user`."""
    return assert_envelope(api.client_for(user).get(export_url(export_id)), 200)["data"]


def stored_bytes(export_id: Any) -> bytes:
    """The stored file of an export."""
    export = OrderExport.objects.get(pk=export_id)
    with default_storage.open(export.file.name, "rb") as handle:
        return bytes(handle.read())


def csv_rows(content: bytes) -> list[list[str]]:
    """A CSV file's rows, header first."""
    return list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))


def xlsx_rows(content: bytes) -> list[tuple[Any, ...]]:
    """An XLSX file's rows (its one sheet), header first."""
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    try:
        return [tuple(row) for row in book.active.iter_rows(values_only=True)]
    finally:
        book.close()


def expected(orders: Any, tz: ZoneInfo = UTC_ZONE) -> list[dict[str, Any]]:
    """What the export must hold for `orders`, read with plain ORM calls (oldest first); item
    counts and units are summed here, not by the database."""
    columns = ("pk", "number", "created_at", "status", "customer__email", "customer__name")
    columns += ("currency", "subtotal", "total", "paid_at", "cancelled_at")
    rows = list(orders.order_by("created_at", "serial").values_list(*columns))
    lines: dict[Any, list[int]] = defaultdict(list)
    items = OrderItem.objects.filter(order__in=orders.values("pk"))
    for order_id, quantity in items.values_list("order_id", "quantity"):
        lines[order_id].append(quantity)

    def local(value: datetime | None) -> datetime | None:
        return None if value is None else value.astimezone(tz).replace(microsecond=0)

    return [
        {
            "number": number,
            "created_at": local(created_at),
            "status": status,
            "customer_email": email,
            "customer_name": name,
            "item_count": len(lines[pk]),
            "quantity": sum(lines[pk]),
            "currency": currency,
            "subtotal": subtotal,
            "total": total,
            "paid_at": local(paid_at),
            "cancelled_at": local(cancelled_at),
        }
        for (
            pk,
            number,
            created_at,
            status,
            email,
            name,
            currency,
            subtotal,
            total,
            paid_at,
            cancelled_at,
        ) in rows
    ]


def as_csv(row: dict[str, Any]) -> list[str]:
    """An expected row as the CSV writes it."""

    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, Decimal):
            return f"{value:.2f}"
        text = str(value)
        return f"'{text}" if text.startswith(("=", "+", "-", "@")) else text

    return [cell(row[column]) for column in EXPORT_COLUMNS]


def from_xlsx(values: tuple[Any, ...]) -> dict[str, Any]:
    """An XLSX row back in the expected row's types (Decimal money); trailing empty cells are
    not stored, so the row is padded."""
    padded = values + (None,) * (len(EXPORT_COLUMNS) - len(values))
    row = dict(zip(EXPORT_COLUMNS, padded, strict=True))
    return {
        **row,
        "subtotal": Decimal(str(row["subtotal"])).quantize(Decimal("0.01")),
        "total": Decimal(str(row["total"])).quantize(Decimal("0.01")),
    }


def as_xlsx(row: dict[str, Any]) -> dict[str, Any]:
    """An expected row as XLSX cells read back: naive local times, empty text as no value."""

    def cell(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        return None if value == "" else value

    return {key: cell(value) for key, value in row.items()}


def bulk_orders(customer: Any, count: int, *, start: datetime | None = None) -> list[Order]:
    """`count` orders (every fourth with two lines, the rest with one), straight into the
    database with bulk_create."""
    product, other = ProductFactory(stock=10), ProductFactory(stock=10)
    # Far above the serials order_place takes (PostgreSQL: a sequence that knows nothing of
    # these rows), so placing an order afterwards never collides.
    largest = Order.all_objects.order_by("-serial").values_list("serial", flat=True).first()
    first = max(largest or 0, 10**8) + 1
    moment = start or datetime(2026, 1, 1, tzinfo=UTC)
    statuses = list(OrderStatus)
    orders, items = [], []
    for index in range(count):
        serial = first + index
        quantity = index % 3 + 1
        lines = [(product, quantity)] + ([(other, 1)] if index % 4 == 1 else [])
        subtotal = sum((Decimal("2.50") * qty for _, qty in lines), Decimal("0"))
        order = Order(
            customer=customer,
            serial=serial,
            number=f"ORD-{serial:06d}",
            status=statuses[index % len(statuses)],
            currency="USD",
            subtotal=subtotal,
            total=subtotal,
            shipping_address=dict(f.ADDRESS),
            created_at=moment + timedelta(seconds=index, microseconds=123456),
            paid_at=moment + timedelta(seconds=index + 60) if index % 5 == 1 else None,
        )
        orders.append(order)
        items += [
            OrderItem(
                order=order,
                product=line_product,
                sku=line_product.sku,
                name=line_product.name,
                unit_price=Decimal("2.50"),
                quantity=qty,
                line_total=Decimal("2.50") * qty,
            )
            for line_product, qty in lines
        ]
    Order.objects.bulk_create(orders, batch_size=2000)
    OrderItem.objects.bulk_create(items, batch_size=2000)
    return orders


def listen(user: Any) -> Any:
    """A channel in the user's notifications group; returns a function draining its events."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(user.pk), channel)

    def drain(timeout: float = 0.2) -> list[dict[str, Any]]:
        events = []
        while True:
            try:
                message = async_to_sync(asyncio.wait_for)(layer.receive(channel), timeout)
            except TimeoutError:
                return events
            events.append(dict(message["event"]))

    return drain


# --- the endpoints ------------------------------------------------------------------------


def test_request_answers_202_pending_and_the_task_writes_a_csv_matching_the_database(
    customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    mine = [f.order(customer, products=2, quantity=2), f.order(customer)]
    f.order()  # someone else's: not in a customer's export
    data = request_export(customer, {"format": "csv"}, django_capture_on_commit_callbacks)
    assert set(data) == {"id", "format", "status", "progress", "file_url", "error", "created_at"}
    assert (data["format"], data["status"], data["progress"]) == ("csv", "pending", 0)
    assert (data["file_url"], data["error"]) == (None, None)

    done = read_back(customer, data["id"])
    assert (done["status"], done["progress"], done["error"]) == ("done", 100, None)
    assert done["file_url"].startswith("http://testserver/")
    rows = csv_rows(stored_bytes(data["id"]))
    assert rows[0] == list(EXPORT_COLUMNS)
    ids = [order.pk for order in mine]
    assert rows[1:] == [as_csv(row) for row in expected(Order.objects.filter(pk__in=ids))]
    assert [row[5] for row in rows[1:]] == ["2", "1"]  # item_count of each order


def test_xlsx_rows_match_the_database_in_the_requested_time_zone(
    staff: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bulk_orders(UserFactory(), 7)
    f.order(UserFactory(), products=3)
    tokyo = ZoneInfo("Asia/Tokyo")
    payload = {"format": "xlsx", "tz": "Asia/Tokyo"}
    data = request_export(staff, payload, django_capture_on_commit_callbacks)
    assert read_back(staff, data["id"])["status"] == "done"
    rows = xlsx_rows(stored_bytes(data["id"]))
    assert rows[0] == EXPORT_COLUMNS
    assert len(rows) == 1 + Order.objects.count()  # staff (scope all): every order
    assert [from_xlsx(row) for row in rows[1:]] == [
        as_xlsx(row) for row in expected(Order.objects.all(), tokyo)
    ]


def test_filters_narrow_the_export_like_the_order_list(
    staff: Any, django_capture_on_commit_callbacks: Any
) -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    late, next_morning, paid = f.order(), f.order(), f.order()
    Order.objects.filter(pk=late.pk).update(created_at=datetime(2026, 3, 10, 23, 30, tzinfo=tokyo))
    Order.objects.filter(pk=next_morning.pk).update(
        created_at=datetime(2026, 3, 11, 0, 30, tzinfo=tokyo)
    )
    Order.objects.filter(pk=paid.pk).update(
        status=OrderStatus.PAID, created_at=datetime(2026, 3, 10, 12, 0, tzinfo=tokyo)
    )
    payload = {"format": "csv", "created_from": "2026-03-10", "created_to": "2026-03-10"}
    day = request_export(staff, {**payload, "tz": "Asia/Tokyo"}, django_capture_on_commit_callbacks)
    numbers = [row[0] for row in csv_rows(stored_bytes(day["id"]))[1:]]
    assert numbers == [paid.number, late.number]
    assert csv_rows(stored_bytes(day["id"]))[2][1] == "2026-03-10T23:30:00+09:00"

    only_paid = request_export(
        staff, {**payload, "tz": "Asia/Tokyo", "status": "paid"}, django_capture_on_commit_callbacks
    )
    assert [row[0] for row in csv_rows(stored_bytes(only_paid["id"]))[1:]] == [paid.number]
    stored = OrderExport.objects.get(pk=only_paid["id"]).filters
    assert stored == {
        "created_from": "2026-03-10",
        "created_to": "2026-03-10",
        "tz": "Asia/Tokyo",
        "status": "paid",
    }


@pytest.mark.parametrize(
    ("payload", "attr", "message"),
    [
        ({"format": "pdf"}, "format", None),
        ({}, "format", None),
        ({"format": "csv", "tz": "Mars/Olympus"}, "tz", UNKNOWN_TZ_MESSAGE),
        ({"format": "csv", "status": "lost"}, "status", None),
        ({"format": "csv", "created_from": "2026-02-30"}, "created_from", None),
        (
            {"format": "csv", "created_from": "2026-03-11", "created_to": "2026-03-10"},
            "created_to",
            RANGE_MESSAGE,
        ),
    ],
)
def test_bad_input_is_400_on_the_field_and_records_nothing(
    customer: Any, payload: dict[str, Any], attr: str, message: str | None
) -> None:
    response = api.client_for(customer).post(exports_url(), payload, format="json")
    body = assert_envelope(response, 400)
    errors = {error["attr"]: error["detail"] for error in body["errors"]}
    assert attr in errors, errors
    if message is not None:
        assert errors[attr] == message
    assert not OrderExport.all_objects.exists()


def test_another_users_export_is_404_even_for_staff(
    customer: Any, staff: Any, django_capture_on_commit_callbacks: Any
) -> None:
    f.order(customer)
    data = request_export(customer, {"format": "csv"}, django_capture_on_commit_callbacks)
    for other in (staff, UserFactory()):
        api.grant(other, FEATURE, ("retrieve",), scope="own")
        body = assert_error(api.client_for(other).get(export_url(data["id"])), 404, "not_found")
        assert data["id"] not in str(body)


def test_requesting_needs_the_retrieve_flag_not_create(
    django_capture_on_commit_callbacks: Any,
) -> None:
    writer_only = UserFactory()
    api.grant(writer_only, FEATURE, ("create",), scope="own")
    response = api.client_for(writer_only).post(exports_url(), {"format": "csv"}, format="json")
    assert_error(response, 403, "permission_denied")
    reader = UserFactory()
    api.grant(reader, FEATURE, ("retrieve",), scope="own")
    request_export(reader, {"format": "csv"}, django_capture_on_commit_callbacks)


def test_exports_route_is_not_taken_for_an_order_id(customer: Any) -> None:
    assert exports_url().endswith("/orders/exports/")
    assert_error(api.client_for(customer).get(exports_url()), 405, "method_not_allowed")
    assert exports.ORDERS_FEATURE == views.FEATURE


# --- progress -----------------------------------------------------------------------------


def test_progress_events_reach_the_requester_in_order_at_least_every_5_percent(
    customer: Any, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.EXPORT_CHUNK_SIZE = 7
    bulk_orders(customer, 53)
    drain = listen(customer)
    data = request_export(customer, {"format": "csv"}, django_capture_on_commit_callbacks)
    events = drain()
    assert {event["type"] for event in events} == {EXPORT_PROGRESS}
    assert all(event["data"]["id"] == data["id"] and event["at"] for event in events)
    steps = [(event["data"]["status"], event["data"]["progress"]) for event in events]
    assert steps[0] == ("running", 0)
    assert steps[-1] == ("done", 100)
    assert {status for status, _ in steps[1:-1]} == {"running"}
    progress = [value for _, value in steps]
    assert progress == sorted(set(progress))  # strictly increasing
    assert max(b - a for a, b in itertools.pairwise(progress)) <= 5
    assert OrderExport.objects.get(pk=data["id"]).progress == 100


def test_running_twice_changes_nothing_and_sends_nothing(
    customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    f.order(customer)
    data = request_export(customer, {"format": "csv"}, django_capture_on_commit_callbacks)
    before = OrderExport.objects.get(pk=data["id"])
    drain = listen(customer)
    assert order_export_write.delay(data["id"]).get() == "done"
    assert drain() == []
    after = OrderExport.objects.get(pk=data["id"])
    assert (after.file.name, after.finished_at) == (before.file.name, before.finished_at)
    stored = [path.name for path in Path(default_storage.path("exports")).iterdir()]
    assert stored == [Path(after.file.name).name]


def test_an_empty_export_is_done_with_just_the_header(
    customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    data = request_export(customer, {"format": "xlsx"}, django_capture_on_commit_callbacks)
    assert read_back(customer, data["id"])["status"] == "done"
    assert xlsx_rows(stored_bytes(data["id"])) == [EXPORT_COLUMNS]


def test_formula_like_text_never_becomes_a_formula(
    staff: Any, django_capture_on_commit_callbacks: Any
) -> None:
    f.order(UserFactory(name='=HYPERLINK("http://evil.example","x")'))
    for fmt in ("csv", "xlsx"):
        data = request_export(staff, {"format": fmt}, django_capture_on_commit_callbacks)
        content = stored_bytes(data["id"])
        if fmt == "csv":
            assert csv_rows(content)[1][4] == '\'=HYPERLINK("http://evil.example","x")'
        else:
            book = openpyxl.load_workbook(io.BytesIO(content))
            cell = book.active.cell(row=2, column=5)
            assert (cell.data_type, cell.value) == ("s", '=HYPERLINK("http://evil.example","x")')


# --- failures -----------------------------------------------------------------------------


def test_an_error_fails_the_export_with_a_short_message_and_no_traceback(
    customer: Any, django_capture_on_commit_callbacks: Any, logs: Any
) -> None:
    f.order(customer)
    drain = listen(customer)
    with mock.patch.object(exports, "order_export_rows", side_effect=RuntimeError("/srv/secret")):
        data = request_export(customer, {"format": "csv"}, django_capture_on_commit_callbacks)
    failed = read_back(customer, data["id"])
    assert (failed["status"], failed["error"], failed["file_url"]) == (
        "failed",
        FAILED_MESSAGE,
        None,
    )
    assert "secret" not in str(failed)
    assert "order_export_failed" in logs.text()  # the traceback is logged, never answered
    last = drain()[-1]["data"]
    assert (last["status"], last["id"]) == ("failed", data["id"])


def test_a_requester_who_lost_the_permission_gets_a_failed_export(
    customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    f.order(customer)
    with mock.patch.object(exports, "user_permission_scope", return_value=None):
        data = request_export(customer, {"format": "csv"}, django_capture_on_commit_callbacks)
    assert OrderExport.objects.get(pk=data["id"]).error == FORBIDDEN_MESSAGE


def test_transient_errors_propagate_for_a_retry_and_fail_the_export_on_the_last_attempt(
    customer: Any,
) -> None:
    export = OrderExport.objects.create(requester=customer, format="csv")
    broken = mock.patch.object(exports, "order_export_rows", side_effect=OperationalError("gone"))
    with broken, pytest.raises(OperationalError):
        order_export_run(export_id=export.pk, final_attempt=False)
    export.refresh_from_db()
    assert export.status == ExportStatus.RUNNING  # the retry claims it again
    with broken, pytest.raises(OperationalError):
        order_export_run(export_id=export.pk, final_attempt=True)
    export.refresh_from_db()
    assert (export.status, export.error) == (ExportStatus.FAILED, FAILED_MESSAGE)
    assert order_export_run(export_id=export.pk) == ExportStatus.FAILED  # left alone


def test_the_task_is_retried_with_limits_and_a_timeout_fails_the_export(customer: Any) -> None:
    from celery.exceptions import SoftTimeLimitExceeded

    assert order_export_write.max_retries == 3
    assert order_export_write.soft_time_limit < order_export_write.time_limit
    assert OperationalError in order_export_write.autoretry_for
    export = OrderExport.objects.create(requester=customer, format="csv")
    with mock.patch.object(exports, "order_export_rows", side_effect=SoftTimeLimitExceeded()):
        assert order_export_run(export_id=export.pk) == ExportStatus.FAILED
    assert OrderExport.objects.get(pk=export.pk).error == TIMEOUT_MESSAGE


# --- 10,000 orders --------------------------------------------------------------------------


def test_an_export_of_10000_orders_finishes_with_a_readable_file_whose_rows_match(
    staff: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bulk_orders(UserFactory(), 10_000)
    started = time.monotonic()
    data = request_export(staff, {"format": "csv"}, django_capture_on_commit_callbacks)
    elapsed = time.monotonic() - started
    assert read_back(staff, data["id"])["status"] == "done"
    rows = csv_rows(stored_bytes(data["id"]))
    assert len(rows) == 10_001
    assert rows[1:] == [as_csv(row) for row in expected(Order.objects.all())]
    assert Counter(row[2] for row in rows[1:]) == Counter(
        Order.objects.values_list("status", flat=True)
    )
    assert elapsed < 30, elapsed


# --- download links -----------------------------------------------------------------------


def test_the_local_download_link_serves_the_file_and_refuses_bad_or_expired_tokens(
    customer: Any, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    f.order(customer)
    data = request_export(customer, {"format": "csv"}, django_capture_on_commit_callbacks)
    url = read_back(customer, data["id"])["file_url"]
    parts = urlsplit(url)
    path, token = parts.path, parse_qs(parts.query)["token"][0]
    assert path == api.api_url("orders-export-file", pk=data["id"])

    anonymous = api.client_for(None)
    response = anonymous.get(path, {"token": token})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="orders-')
    assert b"".join(response.streaming_content) == stored_bytes(data["id"])

    for bad in ("", "forged", token[:-2] + "xx"):
        body = assert_error(anonymous.get(path, {"token": bad}), 403, "permission_denied")
        assert body["errors"][0]["detail"] == INVALID_LINK_MESSAGE
    other = request_export(customer, {"format": "csv"}, django_capture_on_commit_callbacks)
    other_path = api.api_url("orders-export-file", pk=other["id"])
    assert_error(anonymous.get(other_path, {"token": token}), 403, "permission_denied")

    issued = signing.b62_encode(int(time.time()) - 901)  # EXPORT_URL_SECONDS (900) ago
    with monkeypatch.context() as patch:
        patch.setattr(signing.TimestampSigner, "timestamp", lambda _signer: issued)
        old_url = read_back(customer, data["id"])["file_url"]
    old = urlsplit(old_url)
    body = assert_error(anonymous.get(old.path + "?" + old.query), 403, "permission_denied")
    assert body["errors"][0]["detail"] == INVALID_LINK_MESSAGE

    order_exports_purge(now=timezone.now() + timedelta(hours=25))
    body = assert_error(anonymous.get(path, {"token": token}), 404, "not_found")
    assert body["errors"][0]["detail"] == NO_FILE_MESSAGE


@pytest.fixture
def s3(settings: Any) -> Iterator[Any]:
    """A moto S3 server on loopback, and the project's storage pointed at it."""
    with moto_s3(settings) as client:
        yield client


def test_on_s3_the_file_url_is_a_presigned_get_of_the_stored_object(
    s3: Any, customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    f.order(customer)
    data = request_export(customer, {"format": "xlsx"}, django_capture_on_commit_callbacks)
    url = read_back(customer, data["id"])["file_url"]
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(s3.meta.endpoint_url)
    if "X-Amz-Expires" in query:  # signature v4
        assert query["X-Amz-Expires"] == ["900"]
    else:  # v2, botocore's default for presigning here: an absolute expiry
        assert 880 <= int(query["Expires"][0]) - time.time() <= 900
    assert {"X-Amz-Signature", "Signature"} & set(query)
    assert "attachment" in query["response-content-disposition"][0]
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - moto on loopback
        content = response.read()
    key = OrderExport.objects.get(pk=data["id"]).file.name
    assert content == s3.get_object(Bucket="media", Key=key)["Body"].read()
    assert xlsx_rows(content)[1][0] == Order.objects.get(customer=customer).number

    order_exports_purge(now=timezone.now() + timedelta(hours=25))
    # This key only: moto keeps one store per process, so other tests' objects may be there.
    assert s3.list_objects_v2(Bucket="media", Prefix=key)["KeyCount"] == 0


# --- housekeeping -------------------------------------------------------------------------


def test_the_purge_removes_old_files_marks_the_rows_and_fails_stalled_exports(
    customer: Any, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    f.order(customer)
    old = request_export(customer, {"format": "csv"}, django_capture_on_commit_callbacks)
    recent = request_export(customer, {"format": "csv"}, django_capture_on_commit_callbacks)
    stalled = OrderExport.objects.create(requester=customer, format="csv")
    day_ago = timezone.now() - timedelta(hours=settings.EXPORT_RETENTION_HOURS, minutes=1)
    OrderExport.objects.filter(pk=old["id"]).update(finished_at=day_ago, created_at=day_ago)
    OrderExport.objects.filter(pk=stalled.pk).update(created_at=day_ago)
    old_file = OrderExport.objects.get(pk=old["id"]).file.name

    assert order_exports_purge() == 1
    assert order_exports_purge() == 0  # safe to run twice

    assert not default_storage.exists(old_file)
    gone = read_back(customer, old["id"])
    assert (gone["status"], gone["file_url"], gone["error"]) == ("done", None, EXPIRED_MESSAGE)
    assert read_back(customer, recent["id"])["file_url"]
    assert OrderExport.objects.get(pk=stalled.pk).error == STALLED_MESSAGE
    assert OrderExport.objects.get(pk=stalled.pk).status == ExportStatus.FAILED


def test_beat_runs_the_purge_hourly(settings: Any) -> None:
    entries = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert entries["orders.order_exports_purge"]["schedule"] == 3600.0
    assert "orders.order_exports_purge" in app.tasks
    assert isinstance(app.tasks["orders.order_export_write"], AppTask)


# --- a real worker (services pass) ------------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_celery_worker_writes_the_export_and_sends_progress_across_processes(
    settings: Any,
) -> None:
    requester = UserFactory(is_superuser=True)
    bulk_orders(UserFactory(), 500)
    drain = listen(requester)
    # The test settings put an xdist worker's media under <MEDIA_ROOT>/<gwN>, for the worker
    # process too (it inherits PYTEST_XDIST_WORKER): give both the same folder.
    media = Path(settings.MEDIA_ROOT)
    settings.MEDIA_ROOT = str(media / os.environ.get("PYTEST_XDIST_WORKER", ""))
    # A queue of this test's own, so no other test's worker takes its message.
    queue = f"test-exports-{uuid.uuid4().hex[:12]}"
    worker_env = {
        "MEDIA_ROOT": str(media),
        "EXPORT_CHUNK_SIZE": "16",  # many round trips on the server-side cursor, with updates
    }
    with celery_worker(env=worker_env, queue=queue):
        with (
            tasks_sent_to_the_broker(),
            mock.patch.object(order_export_write, "queue", queue, create=True),
            mock.patch.object(order_export_write, "_exec_options", None),  # Celery's cache
            transaction.atomic(),
        ):
            export = exports.order_export_request(
                requester=requester, file_format="xlsx", filters={"status": "paid"}
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            export.refresh_from_db()
            if export.status in (ExportStatus.DONE, ExportStatus.FAILED):
                break
            time.sleep(0.3)
        assert (export.status, export.error) == (ExportStatus.DONE, "")
        rows = xlsx_rows(stored_bytes(export.pk))
        paid = Order.objects.filter(status=OrderStatus.PAID)
        assert [from_xlsx(row) for row in rows[1:]] == [as_xlsx(row) for row in expected(paid)]
        progress = [event["data"]["progress"] for event in drain(timeout=2)]
        assert progress[0] == 0
        assert progress[-1] == 100
        assert progress == sorted(set(progress))
