"""`make bench`: what the core layer's uses of DRF internals buy, as ratios in one run.

Each benchmark times the core path and the plain-DRF path on the same data in the same
process and prints the ratio; nothing is asserted about time (the machine decides that),
only that both paths give the same result. Run: `make bench`.
"""

import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers
from rest_framework.throttling import SimpleRateThrottle

from apps.catalog.models import Product
from apps.core.http import bulk
from tests.factories import UserFactory
from tests.testapp.models import Note, Tag
from tests.testapp.serializers import NoteSerializer, NoteWriteSerializer

pytestmark = [pytest.mark.bench, pytest.mark.django_db]
ROWS = 1000
CENT = Decimal("0.01")
BULK_ITEMS = 500
REPEAT = 5


def best_of(run: Callable[[], Any], repeat: int = REPEAT) -> float:
    """The median wall time of `run` in milliseconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def report(
    name: str,
    core_ms: float,
    drf_ms: float,
    extra: str = "",
    *,
    labels: tuple[str, str] = ("core", "DRF"),
) -> None:
    """One line: both timings and how many times faster the core path is."""
    core, other = labels
    print(  # noqa: T201 - the benchmark's output
        f"\n[bench] {name}: {core} {core_ms:.1f} ms, {other} {drf_ms:.1f} ms, "
        f"ratio {other}/{core} {drf_ms / core_ms:.2f}x {extra}"
    )


def drf_lookups(self: Any, data: Any) -> None:
    """Leave each related field's queryset to DRF (one query per id)."""


class PlainNoteSerializer(NoteSerializer):
    """The same fields through DRF's own `Serializer.to_representation`."""

    def to_representation(self, instance: Any) -> Any:
        """DRF's implementation, bypassing the cached field readers."""
        return serializers.ModelSerializer.to_representation(self, instance)


def test_read_serializer_field_readers_against_drf() -> None:
    """AppReadOnlyModelSerializer resolves readers once per list (public DRF API only)."""
    owner = UserFactory()
    tags = [Tag.objects.create(name=f"t{n}") for n in range(3)]
    Note.objects.bulk_create(
        [Note(owner=owner, title=f"note {n}", body="x" * 200, priority=n % 6) for n in range(ROWS)]
    )
    for note in Note.objects.all():
        note.tags.set(tags)
    rows = list(Note.objects.select_related("owner").prefetch_related("tags"))
    core = NoteSerializer(rows, many=True).data
    plain = PlainNoteSerializer(rows, many=True).data
    assert core == plain
    report(
        f"read serializer, {ROWS} notes",
        best_of(lambda: NoteSerializer(rows, many=True).data),
        best_of(lambda: PlainNoteSerializer(rows, many=True).data),
    )


def test_bulk_validation_related_lookups_against_drf(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bulk list serializer resolves related ids from one query per field
    (`InMemoryLookup` in the relation's `queryset`), where DRF queries once per id."""
    tags = [Tag.objects.create(name=f"tag {n}") for n in range(10)]
    payload = [
        {"title": f"bulk {n}", "tags": [str(tags[n % 10].pk), str(tags[(n + 1) % 10].pk)]}
        for n in range(BULK_ITEMS)
    ]

    def validate() -> int:
        serializer = NoteWriteSerializer(data=payload, many=True)
        with CaptureQueriesContext(connection) as queries:
            assert serializer.is_valid(), serializer.errors
        return len(queries.captured_queries)

    core_queries = validate()
    core_ms = best_of(validate)
    monkeypatch.setattr(bulk.AppBulkListSerializer, "_prefetch_relations", drf_lookups)
    drf_queries = validate()
    drf_ms = best_of(validate)
    report(
        f"bulk validation, {BULK_ITEMS} items x 2 tags",
        core_ms,
        drf_ms,
        f"(queries: core {core_queries}, DRF {drf_queries})",
    )
    assert core_queries < drf_queries


def test_renderer_against_drf_on_a_thousand_products() -> None:
    """The orjson renderer against DRF's JSONRenderer on the envelope of 1,000 products as
    the catalog's read serializer gives them (identical bytes asserted first)."""
    from rest_framework.renderers import JSONRenderer

    from apps.catalog.selectors import product_detail
    from apps.catalog.serializers import ProductDetailSerializer
    from apps.core.http.renderers import EnvelopeJSONRenderer
    from tests.catalog.factories import CategoryFactory, ProductFactory, TagFactory

    category, tags = CategoryFactory(), [TagFactory() for _ in range(3)]
    for n in range(ROWS):
        ProductFactory(category=category, attributes={"weight": n / 7, "size": n}).tags.set(tags)
    rows = product_detail()
    envelope = {"success": True, "status": 200, "message": "Success", "errors": None}
    data = {**envelope, "data": ProductDetailSerializer(rows, many=True).data}
    core, plain = EnvelopeJSONRenderer(), JSONRenderer()
    assert core.render(data) == plain.render(data)
    report(
        f"JSON rendering, {ROWS} products",
        best_of(lambda: core.render(data)),
        best_of(lambda: plain.render(data)),
        f"({len(plain.render(data)) // 1024} KB)",
    )


def product_floor(queryset: Any) -> list[dict[str, Any]]:
    """The practical floor of a product page: `values()`, one `values_list` for the tags,
    dicts stitched by hand with the conversions the output needs and nothing else."""
    columns = (
        "pk",
        "name",
        "slug",
        "sku",
        "category_id",
        "category__name",
        "price",
        "discount_percent",
        "final_price",
        "stock",
        "is_active",
        "image",
        "version",
        "created_at",
    )
    rows = list(queryset.prefetch_related(None).values(*columns))
    tags: dict[Any, list[str]] = {}
    through = Product.tags.through.objects.filter(
        product_id__in=[row["pk"] for row in rows], tag__is_deleted=False
    ).order_by("tag__name")
    for product_id, name in through.values_list("product_id", "tag__name"):
        tags.setdefault(product_id, []).append(name)
    return [
        {
            "id": str(row["pk"]),
            "name": row["name"],
            "slug": row["slug"],
            "sku": row["sku"],
            "category": str(row["category_id"]),
            "category_name": row["category__name"],
            "price": f"{row['price']:f}",
            "discount_percent": row["discount_percent"],
            "final_price": f"{row['final_price'].quantize(CENT):f}",  # SQLite's ROUND: 10
            "stock": row["stock"],
            "is_active": row["is_active"],
            "tags": tags.get(row["pk"], []),
            "image": None,
            "version": row["version"],
            "created_at": row["created_at"].isoformat()[:-6] + "Z",
        }
        for row in rows
    ]


def test_product_page_read_path_against_drf_and_the_floor() -> None:
    """1,000 products as the list endpoint reads them: fetch + serialize + render through the
    projection plan and the orjson renderer, against a plain DRF ModelSerializer over
    instances + DRF's JSONRenderer, and against the hand-written floor (identical bytes
    asserted before timing). Each stage is timed on its own too."""
    from rest_framework.renderers import JSONRenderer

    from apps.catalog.selectors import product_list
    from apps.catalog.serializers import ProductListSerializer
    from apps.core.http.projection import prefetch_lookups, projection_plan
    from apps.core.http.renderers import EnvelopeJSONRenderer
    from tests.bench.stack.peers import DrfProductSerializer as PlainProductSerializer
    from tests.catalog.factories import CategoryFactory, ProductFactory, TagFactory

    category, tags = CategoryFactory(), [TagFactory() for _ in range(3)]
    for _ in range(ROWS):
        ProductFactory(category=category).tags.set(tags)
    queryset = product_list()
    plan = projection_plan(ProductListSerializer, queryset)
    core_renderer, drf_renderer = EnvelopeJSONRenderer(), JSONRenderer()

    def core_fetch() -> list[dict[str, Any]]:
        return list(plan.select(queryset.all()))

    def core_end_to_end() -> bytes:
        rows = core_fetch()
        return core_renderer.render(plan.represent(rows, {}, prefetch_lookups(queryset)))

    def drf_fetch() -> list[Any]:
        return list(queryset.all())

    def drf_end_to_end() -> bytes:
        return drf_renderer.render(PlainProductSerializer(drf_fetch(), many=True).data)

    def floor_end_to_end() -> bytes:
        return orjson.dumps(product_floor(queryset.all()))

    assert core_end_to_end() == drf_end_to_end() == floor_end_to_end()
    core_rows, drf_rows = core_fetch(), drf_fetch()
    core_data = plan.represent(core_rows, {}, prefetch_lookups(queryset))
    drf_data = PlainProductSerializer(drf_rows, many=True).data
    stages = {
        "fetch": (best_of(core_fetch), best_of(drf_fetch)),
        "serialize": (
            best_of(lambda: plan.represent(core_rows, {}, prefetch_lookups(queryset))),
            best_of(lambda: PlainProductSerializer(drf_rows, many=True).data),
        ),
        "render": (
            best_of(lambda: core_renderer.render(core_data)),
            best_of(lambda: drf_renderer.render(drf_data)),
        ),
    }
    for stage, (core_ms, drf_ms) in stages.items():
        report(f"product page {stage}, {ROWS} rows", core_ms, drf_ms)
    core_ms, drf_ms, floor_ms = (
        best_of(core_end_to_end),
        best_of(drf_end_to_end),
        best_of(floor_end_to_end),
    )
    report(
        f"product page end to end, {ROWS} rows",
        core_ms,
        drf_ms,
        f"(floor {floor_ms:.1f} ms: core is {core_ms / floor_ms:.2f}x the floor)",
    )


def test_access_line_fast_path_against_the_stdlib_bridge() -> None:
    """5,000 access lines through FastJSONLogger against the same line through structlog's
    stdlib bridge (the path every line took before), both into a JSON handler in memory;
    the lines are the same but for their timestamps."""
    import io
    import json
    import logging

    import structlog

    from apps.core.platform.logging import FastJSONLogger, build_formatter

    lines = 5000
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(build_formatter(json=True))
    root = logging.getLogger()
    saved = root.handlers, root.level
    root.handlers, root.level = [handler], logging.INFO
    fields = {"status": 200, "duration_ms": 3.2, "query": "page=2&page_size=20", "user_id": None}
    fast, bridge = FastJSONLogger("apps.access"), structlog.get_logger("apps.access")
    structlog.contextvars.bind_contextvars(
        trace_id="a" * 32, method="GET", path="/api/v1/catalog/products/"
    )
    try:
        fast.info("request_finished", **fields)
        bridge.info("request_finished", **fields)
        one, two = (json.loads(line) for line in stream.getvalue().splitlines())
        assert {**one, "timestamp": ""} == {**two, "timestamp": ""} and list(one) == list(two)

        def write(logger: Any) -> None:
            for _ in range(lines):
                logger.info("request_finished", **fields)
            stream.seek(0)
            stream.truncate()

        fast_ms, bridge_ms = best_of(lambda: write(fast)), best_of(lambda: write(bridge))
    finally:
        structlog.contextvars.clear_contextvars()
        root.handlers, root.level = saved
    report(
        f"access log line, {lines} lines",
        fast_ms,
        bridge_ms,
        f"({fast_ms * 1000 / lines:.1f} us against {bridge_ms * 1000 / lines:.1f} us a line)",
        labels=("fast path", "stdlib bridge"),
    )


def test_bulk_create_of_a_thousand_against_a_thousand_single_posts(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`POST /catalog/products/` with an array of 1,000 products against 1,000 POSTs of one,
    through the whole Django stack in process (test client, an editor's JWT), with the SQL
    statements each sends; the bulk statement count must not depend on the batch size.
    Runs on the database of the environment (SQLite by default, PostgreSQL under
    `make bench-services`' variables)."""
    from django.urls import reverse

    from tests import api_cases as api
    from tests.catalog.factories import CategoryFactory, TagFactory, product_payload

    settings.BULK_MAX_ITEMS = 1000
    for scope in SimpleRateThrottle.THROTTLE_RATES:  # DRF read the rates at import
        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, "1000000/min")
    editor = UserFactory()
    api.grant(editor, "catalog.products")
    client = api.client_for(editor)
    url = reverse("catalog-product-list", kwargs={"version": "v1"})
    category, tags = CategoryFactory(), [str(TagFactory().pk) for _ in range(3)]
    serial = iter(range(10**6))

    def payloads(count: int) -> list[dict[str, Any]]:
        return [
            product_payload(category.pk, name=f"b{n}", slug=f"b-{n}", sku=f"B-{n}", tags=tags)
            for n in (next(serial) for _ in range(count))
        ]

    def bulk(items: list[dict[str, Any]]) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.post(url, items, format="json")
        assert response.status_code == 201, response.content[:500]
        return len(queries.captured_queries)

    def singles(items: list[dict[str, Any]]) -> int:
        with CaptureQueriesContext(connection) as queries:
            for item in items:
                response = client.post(url, item, format="json")
                assert response.status_code == 201, response.content[:500]
        return len(queries.captured_queries)

    bulk(payloads(10))  # warm: the editor's permissions and the namespaces get cached
    assert bulk(payloads(100)) == bulk(payloads(1000))  # constant in the batch size
    batch = payloads(1000)
    started = time.perf_counter()
    bulk_statements = bulk(batch)
    bulk_ms = (time.perf_counter() - started) * 1000
    batch = payloads(1000)
    started = time.perf_counter()
    single_statements = singles(batch)
    single_ms = (time.perf_counter() - started) * 1000
    report(
        f"product create, 1 POST of 1000 vs 1000 POSTs ({connection.vendor})",
        bulk_ms,
        single_ms,
        f"(statements: bulk {bulk_statements}, singles {single_statements})",
        labels=("bulk", "singles"),
    )
