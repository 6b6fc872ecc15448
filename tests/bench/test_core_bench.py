"""`make bench`: what the core layer's uses of DRF internals buy, as ratios in one run.

Each benchmark times the core path and the plain-DRF path on the same data in the same
process and prints the ratio; nothing is asserted about time (the machine decides that),
only that both paths give the same result. Run: `make bench`.
"""

import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from apps.core.http import bulk
from tests.factories import UserFactory
from tests.testapp.models import Note, Tag
from tests.testapp.serializers import NoteSerializer, NoteWriteSerializer

pytestmark = [pytest.mark.bench, pytest.mark.django_db]
ROWS = 1000
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


def report(name: str, core_ms: float, drf_ms: float, extra: str = "") -> None:
    """One line: both timings and how many times faster the core path is."""
    print(  # noqa: T201 - the benchmark's output
        f"\n[bench] {name}: core {core_ms:.1f} ms, DRF {drf_ms:.1f} ms, "
        f"ratio DRF/core {drf_ms / core_ms:.2f}x {extra}"
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
