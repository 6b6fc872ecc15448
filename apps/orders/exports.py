"""Order exports: a CSV or XLSX file of the orders its requester may see, written by a task.

Columns, one row per order, oldest first (`EXPORT_COLUMNS` in selectors.py):

    number, created_at, status, customer_email, customer_name, item_count, quantity,
    currency, subtotal, total, paid_at, cancelled_at

`item_count` is the order's number of lines and `quantity` the units over those lines, both
counted by the database. Times are in the export's `tz` (UTC by default), to the second: ISO
8601 with the offset in CSV, date-time cells in XLSX (Excel cells hold no zone). Money is
`12.50` in CSV and a number shown with two decimals in XLSX. Text that a spreadsheet would
read as a formula (starting with =, +, -, @, tab or CR) is prefixed with `'` in CSV and stored
as plain text in XLSX. CSV is UTF-8 with a header row; XLSX has one sheet, "Orders".

Flow: `order_export_request` (the POST) records the export and dispatches the task on commit;
`order_export_run` (the task's body) claims it, counts the rows, streams them from
`.iterator(chunk_size=EXPORT_CHUNK_SIZE)` into a temporary file (XLSX through openpyxl's
write-only mode: constant memory), stores it through `default_storage` and reports progress:
the row's `progress` and `export.progress` `{id, status, progress}` to the requester's
notification sockets at each 5 %, and at 100 with status `done`. Safe to run twice: a finished
export is left alone; of two overlapping runs the first to finish wins and the other deletes
its file. Progress and status are written with conditional UPDATEs (not audited: only the
request is). `order_export_file_url` hands out a pre-signed GET on S3, or a signed, expiring
link to `order_export_file_open` on local storage. `order_exports_purge` (beat) removes files
older than EXPORT_RETENTION_HOURS.
"""

import csv
import io
import tempfile
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

import structlog
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from rest_framework.exceptions import NotFound, PermissionDenied

from apps.core.models import PermissionScope
from apps.core.platform.tasks import TRANSIENT_ERRORS, dispatch_on_commit
from apps.core.platform.ws.notify import notify_user
from apps.core.rbac.permissions import user_permission_scope
from apps.core.records.services import object_create
from apps.core.uploads.storage import is_s3_storage
from apps.orders.models import ExportFormat, ExportStatus, Order, OrderExport
from apps.orders.notifications import EXPORT_PROGRESS
from apps.orders.selectors import (
    EXPORT_COLUMNS,
    order_export_orders,
    order_export_rows,
    order_list_filtered,
)
from apps.orders.tasks import order_export_write

if TYPE_CHECKING:
    from apps.accounts.models import User

logger = structlog.get_logger(__name__)

ORDERS_FEATURE = "orders.orders"  # the feature OrderViewSet declares (views.FEATURE)
PROGRESS_STEP = 5  # percent between two progress reports
EXPORT_FILE_SALT = "apps.orders.exports.file"
SHEET_TITLE = "Orders"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
MONEY_FORMAT = "0.00"
CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FINISHED = (ExportStatus.DONE, ExportStatus.FAILED)
UNFINISHED = (ExportStatus.PENDING, ExportStatus.RUNNING)

FAILED_MESSAGE = "The export failed. Please try again."
TIMEOUT_MESSAGE = "The export took too long. Narrow the filters and try again."
FORBIDDEN_MESSAGE = "You may no longer read orders."
STALLED_MESSAGE = "The export did not finish in time."
EXPIRED_MESSAGE = "The export file was removed after the retention period."
INVALID_LINK_MESSAGE = "The download link is invalid or has expired."
NO_FILE_MESSAGE = "This export has no file to download."


class ExportRefused(Exception):  # noqa: N818 - a refusal the requester may read, not a crash
    """An export that cannot be written, for a reason its requester may read."""


@dataclass(frozen=True)
class ExportDownload:
    """An export's stored file, opened, with the name and type to serve it under."""

    file: File
    filename: str
    content_type: str


class RowWriter(Protocol):
    """Writes export rows into a file."""

    def write(self, row: tuple[Any, ...]) -> None:
        """Add one order's row."""

    def close(self) -> None:
        """Finish the file (the handle stays open)."""


# --- requesting ---------------------------------------------------------------------------


def order_export_request(
    *, requester: "User", file_format: str, filters: Mapping[str, str]
) -> OrderExport:
    """Record an export (audited) and dispatch its task once the transaction commits."""
    with transaction.atomic():
        export = object_create(
            model=OrderExport,
            data={"requester": requester, "format": file_format, "filters": dict(filters)},
        )
        dispatch_on_commit(order_export_write, str(export.pk))
    return export


# --- what goes in -------------------------------------------------------------------------


def _filter_zone(filters: Mapping[str, str]) -> ZoneInfo:
    """The export's time zone (validated when it was requested)."""
    return ZoneInfo(filters.get("tz") or "UTC")


def _filter_day(filters: Mapping[str, str], key: str) -> date | None:
    """A stored `YYYY-MM-DD` filter as a date."""
    value = filters.get(key)
    return date.fromisoformat(value) if value else None


def order_export_queryset(
    *, requester: "User", filters: Mapping[str, str]
) -> models.QuerySet[Order]:
    """The orders `requester` may see now (`retrieve` on orders.orders: scope `own` their
    orders, `all` every order), narrowed by the export's filters; refused without the flag."""
    queryset = order_export_orders()
    if not requester.is_superuser:
        scope = user_permission_scope(user=requester, feature=ORDERS_FEATURE, flag="retrieve")
        if scope is None:
            raise ExportRefused(FORBIDDEN_MESSAGE)
        if scope != PermissionScope.ALL:
            queryset = queryset.filter(customer=requester)
    return order_list_filtered(
        queryset,
        status=filters.get("status") or None,
        created_from=_filter_day(filters, "created_from"),
        created_to=_filter_day(filters, "created_to"),
        tz=_filter_zone(filters),
    )


# --- writing rows -------------------------------------------------------------------------


def _local(value: datetime, tz: ZoneInfo) -> datetime:
    """An aware time in `tz`, to the second."""
    return value.astimezone(tz).replace(microsecond=0)


def _text(value: str) -> str:
    """Text without the control characters XLSX cannot hold."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def csv_cell(value: Any, tz: ZoneInfo) -> str:
    """One CSV field: ISO times in `tz`, money as `12.50`, formula-like text neutralised."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _local(value, tz).isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


class CsvRowWriter:
    """Rows as UTF-8 CSV with a header."""

    def __init__(self, handle: IO[bytes], tz: ZoneInfo) -> None:
        """Write the header to `handle`."""
        self._text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        self._csv = csv.writer(self._text)
        self._tz = tz
        self._csv.writerow(EXPORT_COLUMNS)

    def write(self, row: tuple[Any, ...]) -> None:
        """Add one order's row."""
        self._csv.writerow([csv_cell(value, self._tz) for value in row])

    def close(self) -> None:
        """Flush, and give the binary handle back."""
        self._text.flush()
        self._text.detach()


class XlsxRowWriter:
    """Rows in one sheet of a write-only workbook (openpyxl streams them to disk)."""

    def __init__(self, handle: IO[bytes], tz: ZoneInfo) -> None:
        """Start the workbook with a header row."""
        self._handle = handle
        self._tz = tz
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(SHEET_TITLE)
        self._sheet.append(list(EXPORT_COLUMNS))

    def _cell(self, value: Any) -> Any:
        """A typed cell: dates and money formatted, text never read as a formula."""
        if isinstance(value, datetime):
            naive = _local(value, self._tz).replace(tzinfo=None)  # Excel cells hold no zone
            cell = WriteOnlyCell(self._sheet, value=naive)
            cell.number_format = DATETIME_FORMAT
            return cell
        if isinstance(value, Decimal):
            cell = WriteOnlyCell(self._sheet, value=value)
            cell.number_format = MONEY_FORMAT
            return cell
        if isinstance(value, str):
            text = _text(value)
            if text.startswith(FORMULA_PREFIXES):
                cell = WriteOnlyCell(self._sheet, value=text)
                cell.data_type = "s"  # openpyxl would store "=..." as a formula
                return cell
            return text
        return value

    def write(self, row: tuple[Any, ...]) -> None:
        """Add one order's row."""
        self._sheet.append([self._cell(value) for value in row])

    def close(self) -> None:
        """Zip the workbook into the handle."""
        self._book.save(self._handle)


def row_writer(file_format: str, handle: IO[bytes], tz: ZoneInfo) -> RowWriter:
    """The writer of `file_format`."""
    if file_format == ExportFormat.XLSX:
        return XlsxRowWriter(handle, tz)
    return CsvRowWriter(handle, tz)


# --- running ------------------------------------------------------------------------------


def _now() -> datetime:
    """The current time (one place, for the UPDATEs below)."""
    return timezone.now()


def _report(export: OrderExport, status: str, progress: int) -> None:
    """Send `export.progress` to the requester's notification sockets."""
    data = {"id": str(export.pk), "status": status, "progress": progress}
    notify_user(export.requester_id, EXPORT_PROGRESS, data)


def _progress(export: OrderExport, progress: int) -> None:
    """Store and report progress while the export runs."""
    running = OrderExport.objects.filter(pk=export.pk, status=ExportStatus.RUNNING)
    if running.update(progress=progress, updated_at=_now()):
        _report(export, ExportStatus.RUNNING, progress)


def _file_key(export: OrderExport) -> str:
    """Where the file is stored (storage may add a suffix when the name is taken)."""
    return f"exports/orders-{export.pk}.{export.format}"


def _write(export: OrderExport) -> str:
    """Claim, write, store and finish the export; its final status."""
    claimed = OrderExport.objects.filter(pk=export.pk, status__in=UNFINISHED).update(
        status=ExportStatus.RUNNING, progress=0, error="", updated_at=_now()
    )
    if not claimed:  # finished meanwhile by another run
        return str(OrderExport.all_objects.get(pk=export.pk).status)
    _report(export, ExportStatus.RUNNING, 0)
    queryset = order_export_queryset(requester=export.requester, filters=export.filters)
    total = queryset.count()
    rows: Iterable[tuple[Any, ...]] = order_export_rows(queryset).iterator(
        chunk_size=settings.EXPORT_CHUNK_SIZE
    )
    with tempfile.TemporaryFile() as handle:
        writer = row_writer(export.format, handle, _filter_zone(export.filters))
        reported = 0
        for written, row in enumerate(rows, start=1):
            writer.write(row)
            progress = min(99, written * 100 // total)
            after_next = (written + 1) * 100 // total
            # Report before the next row would leave more than a step since the last report.
            if progress > reported and (
                progress - reported >= PROGRESS_STEP or after_next - reported > PROGRESS_STEP
            ):
                _progress(export, progress)
                reported = progress
        writer.close()
        handle.seek(0)
        name = default_storage.save(_file_key(export), File(handle))
    finished = OrderExport.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(
        status=ExportStatus.DONE, progress=100, file=name, finished_at=_now(), updated_at=_now()
    )
    if not finished:  # another run finished first (or the export was purged): keep theirs
        default_storage.delete(name)
        return str(OrderExport.all_objects.get(pk=export.pk).status)
    _report(export, ExportStatus.DONE, 100)
    return str(ExportStatus.DONE)


def order_export_fail(*, export_id: uuid.UUID | str, message: str) -> str:
    """Mark an unfinished export failed with `message` and tell its requester."""
    unfinished = OrderExport.objects.filter(pk=export_id, status__in=UNFINISHED)
    if unfinished.update(
        status=ExportStatus.FAILED, error=message[:500], finished_at=_now(), updated_at=_now()
    ):
        export = OrderExport.all_objects.get(pk=export_id)
        _report(export, ExportStatus.FAILED, export.progress)
    return str(ExportStatus.FAILED)


def order_export_run(*, export_id: uuid.UUID | str, final_attempt: bool = True) -> str | None:
    """The export task's body: write the file; the final status (None when the row is gone).

    Transient errors (database, broker, network) propagate for the task to retry, and mark
    the export failed on the final attempt; any other error marks it failed at once with a
    short message (the traceback goes to the log only).
    """
    export = OrderExport.objects.select_related("requester").filter(pk=export_id).first()
    if export is None:
        return None
    if export.status in FINISHED:  # safe to run twice
        return str(export.status)
    try:
        return _write(export)
    except ExportRefused as exc:
        return order_export_fail(export_id=export_id, message=str(exc))
    except SoftTimeLimitExceeded:
        return order_export_fail(export_id=export_id, message=TIMEOUT_MESSAGE)
    except TRANSIENT_ERRORS:
        if final_attempt:
            _fail_quietly(export_id)
        raise
    except Exception:
        logger.exception("order_export_failed", export_id=str(export_id))
        return order_export_fail(export_id=export_id, message=FAILED_MESSAGE)


def _fail_quietly(export_id: uuid.UUID | str) -> None:
    """Mark failed when the database lets us; the task's own failure is logged anyway."""
    try:
        order_export_fail(export_id=export_id, message=FAILED_MESSAGE)
    except Exception:  # noqa: BLE001 - the database may be what failed
        logger.warning("order_export_fail_unrecorded", export_id=str(export_id))


# --- the file -----------------------------------------------------------------------------


def order_export_filename(export: OrderExport) -> str:
    """The name a download is saved under: `orders-2026-03-10-1a2b3c4d.csv`."""
    day = export.created_at.astimezone(_filter_zone(export.filters)).date().isoformat()
    return f"orders-{day}-{str(export.pk)[:8]}.{export.format}"


def order_export_file_url(*, export: OrderExport, local_url: Callable[[str], str]) -> str | None:
    """A time-limited link to the finished export's file, or None.

    S3: a pre-signed GET valid for EXPORT_URL_SECONDS. Local storage: `local_url(token)`, the
    app's download URL for a signed token that expires as fast.
    """
    if export.status != ExportStatus.DONE or not export.file:
        return None
    name = export.file.name
    if is_s3_storage():
        disposition = f'attachment; filename="{order_export_filename(export)}"'
        return str(
            default_storage.url(  # type: ignore[call-arg]
                name,
                parameters={"ResponseContentDisposition": disposition},
                expire=settings.EXPORT_URL_SECONDS,
            )
        )
    token = signing.dumps({"export": str(export.pk), "file": name}, salt=EXPORT_FILE_SALT)
    return local_url(token)


def order_export_file_open(*, export_id: uuid.UUID | str, token: str) -> ExportDownload:
    """The file a local download link points at: 403 for a bad or expired token, 404 when
    the export has no such file (any more)."""
    try:
        payload = signing.loads(token, salt=EXPORT_FILE_SALT, max_age=settings.EXPORT_URL_SECONDS)
    except signing.BadSignature as exc:
        raise PermissionDenied(INVALID_LINK_MESSAGE) from exc
    if not isinstance(payload, dict) or payload.get("export") != str(export_id):
        raise PermissionDenied(INVALID_LINK_MESSAGE)
    export = OrderExport.objects.filter(pk=export_id, status=ExportStatus.DONE).first()
    name = payload.get("file")
    if export is None or not name or export.file.name != name or not default_storage.exists(name):
        raise NotFound(NO_FILE_MESSAGE)
    return ExportDownload(
        file=default_storage.open(name, "rb"),
        filename=order_export_filename(export),
        content_type=CONTENT_TYPES[ExportFormat(export.format)],
    )


# --- housekeeping -------------------------------------------------------------------------


def order_exports_purge(*, now: datetime | None = None) -> int:
    """Remove files of exports finished more than EXPORT_RETENTION_HOURS ago (the rows stay,
    with no file and EXPIRED_MESSAGE) and fail exports stuck unfinished as long; how many
    files were removed. Safe to run twice."""
    moment = now or _now()
    cutoff = moment - timedelta(hours=settings.EXPORT_RETENTION_HOURS)
    removed = 0
    old = OrderExport.all_objects.filter(finished_at__lt=cutoff).exclude(file="")
    for export_id, name in old.values_list("pk", "file").iterator():
        default_storage.delete(name)  # no error when it is already gone
        removed += OrderExport.all_objects.filter(pk=export_id, file=name).update(
            file="", error=EXPIRED_MESSAGE, updated_at=moment
        )
    OrderExport.all_objects.filter(created_at__lt=cutoff, status__in=UNFINISHED).update(
        status=ExportStatus.FAILED, error=STALLED_MESSAGE, finished_at=moment, updated_at=moment
    )
    return removed
