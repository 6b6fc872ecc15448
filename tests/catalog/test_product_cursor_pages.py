"""The product list's cursor form (infinite scroll): stable under every ordering option and
under inserts between requests, links both ways, bad cursors a 400 in the envelope, constant
queries; page numbers stay the default."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse_lazy
from django.utils import timezone

from apps.catalog import views
from apps.catalog.models import Product
from apps.catalog.selectors import product_list
from apps.core.http.pagination import CURSOR_ORDERING_MESSAGE, INVALID_CURSOR_MESSAGE
from tests import api_cases as api
from tests.catalog import factories as f
from tests.envelope import assert_envelope, assert_error
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PRODUCTS = reverse_lazy("catalog-product-list", kwargs={"version": api.API_VERSION})
ORDERINGS = ["-created_at", "created_at", "price", "-price", "final_price", "name", "-name"]
PRICES = [Decimal("5.00"), Decimal("5.00"), Decimal("7.50"), Decimal("10.00")]


@pytest.fixture(autouse=True)
def _database_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages are read from the database, not the response cache (writes bump it anyway)."""
    monkeypatch.setattr(views.ProductViewSet, "cache_responses", False)


def make_products(count: int, *, start: int = 0) -> list[Product]:
    """`count` products with many equal prices, names and creation times (ties on purpose)."""
    moment = timezone.now() - timedelta(days=1)
    products = []
    category = f.category()
    for number in range(start, start + count):
        product = f.product(
            category=category,
            name=f"Item {number % 3}",
            price=PRICES[number % len(PRICES)],
            discount_percent=(number % 2) * 50,
        )
        products.append(product)
    Product.objects.filter(pk__in=[p.pk for p in products[::2]]).update(created_at=moment)
    return products


def expected(ordering: str) -> list[str]:
    """The public list's ids in `ordering`, ties broken by the primary key."""
    tie = "-pk" if ordering.startswith("-") else "pk"
    return [
        str(pk)
        for pk in product_list(public=True).order_by(ordering, tie).values_list("pk", flat=True)
    ]


def walk(client: Any, url: str) -> tuple[list[str], list[dict[str, Any]]]:
    """Every id met following `next` from `url`, and each page's meta."""
    seen: list[str] = []
    metas: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        body = assert_envelope(client.get(next_url), 200)
        seen += [row["id"] for row in body["data"]]
        metas.append(body["meta"]["pagination"])
        next_url = body["meta"]["pagination"]["next"]
    return seen, metas


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_cursor_pages_hold_every_product_once_under_each_ordering(ordering: str) -> None:
    make_products(11)
    client = api.client_for(None)
    seen, metas = walk(client, f"{PRODUCTS}?pagination=cursor&page_size=3&ordering={ordering}")
    assert seen == expected(ordering)
    assert len(metas) == 4
    assert all(set(meta) == {"next", "previous"} for meta in metas)
    assert metas[0]["previous"] is None
    assert metas[-1]["next"] is None


def test_a_page_does_not_shift_when_products_are_added_between_requests() -> None:
    make_products(8)
    client = api.client_for(None)
    first = assert_envelope(client.get(f"{PRODUCTS}?pagination=cursor&page_size=4"), 200)
    page_one = [row["id"] for row in first["data"]]
    before = expected("-created_at")
    for _ in range(3):  # newer than every product: they sort first
        f.product()
    second = assert_envelope(client.get(first["meta"]["pagination"]["next"]), 200)
    assert [row["id"] for row in second["data"]] == before[4:8]
    previous = assert_envelope(client.get(second["meta"]["pagination"]["previous"]), 200)
    assert [row["id"] for row in previous["data"]] == page_one
    assert previous["meta"]["pagination"]["previous"] is not None  # the new products
    page_numbers = assert_envelope(client.get(f"{PRODUCTS}?page=2&page_size=4"), 200)
    assert [row["id"] for row in page_numbers["data"]] != before[4:8]  # page numbers shift


def test_previous_links_walk_back_to_the_first_page() -> None:
    make_products(7)
    client = api.client_for(None)
    seen, metas = walk(client, f"{PRODUCTS}?pagination=cursor&page_size=3&ordering=price")
    back: list[str] = []
    link = metas[-1]["previous"]
    while link:
        body = assert_envelope(client.get(link), 200)
        back = [row["id"] for row in body["data"]] + back
        link = body["meta"]["pagination"]["previous"]
    assert back == seen[:6]


def test_page_numbers_stay_the_default() -> None:
    make_products(3)
    body = assert_envelope(api.client_for(None).get(PRODUCTS), 200)
    assert set(body["meta"]["pagination"]) == {"count", "page", "page_size", "next", "previous"}
    assert [row["id"] for row in body["data"]] == expected("-created_at")


@pytest.mark.parametrize("cursor", ["garbage!", "eyJvIjpbXX0", "e30"])
def test_a_bad_cursor_is_a_400_in_the_envelope(cursor: str) -> None:
    make_products(2)
    body = assert_error(
        api.client_for(None).get(f"{PRODUCTS}?cursor={cursor}"), 400, "invalid", "cursor"
    )
    assert body["errors"][0]["detail"] in (INVALID_CURSOR_MESSAGE, CURSOR_ORDERING_MESSAGE)


def test_a_cursor_of_another_ordering_is_a_400() -> None:
    make_products(4)
    client = api.client_for(None)
    first = assert_envelope(client.get(f"{PRODUCTS}?pagination=cursor&page_size=2"), 200)
    link = first["meta"]["pagination"]["next"] + "&ordering=price"
    body = assert_error(client.get(link), 400, "invalid", "cursor")
    assert body["errors"][0]["detail"] == CURSOR_ORDERING_MESSAGE


def test_an_unknown_pagination_mode_is_a_400() -> None:
    assert_error(
        api.client_for(None).get(f"{PRODUCTS}?pagination=offset"), 400, "invalid", "pagination"
    )


def test_a_cursor_page_costs_the_same_queries_for_any_page_and_table_size() -> None:
    make_products(4)
    client = api.client_for(None)
    first = assert_envelope(client.get(f"{PRODUCTS}?pagination=cursor&page_size=2"), 200)
    link = first["meta"]["pagination"]["next"]
    with CaptureQueriesContext(connection) as few:
        assert_envelope(client.get(link), 200)
    make_products(30)
    with CaptureQueriesContext(connection) as many:
        body = assert_envelope(client.get(link), 200)
    assert len(body["data"]) == 2
    assert len(few) == len(many)
    sql = " ".join(query["sql"].upper() for query in many.captured_queries)
    assert "COUNT(" not in sql
    assert "OFFSET" not in sql


def test_editors_page_inactive_products_too() -> None:
    make_products(3)
    hidden = f.product(is_active=False)
    editor = UserFactory()
    api.grant(editor, "catalog.products")
    seen, _ = walk(api.client_for(editor), f"{PRODUCTS}?pagination=cursor&page_size=2")
    assert str(hidden.pk) in seen
    public, _ = walk(api.client_for(None), f"{PRODUCTS}?pagination=cursor&page_size=2")
    assert str(hidden.pk) not in public


def test_cursor_pages_combine_with_the_filters() -> None:
    products = make_products(9)
    vegan = f.tag(name="vegan")
    for product in products[::2]:
        product.tags.add(vegan, f.tag())
    query = "?pagination=cursor&page_size=2&ordering=final_price&tags=vegan&search=Item"
    seen, _ = walk(api.client_for(None), f"{PRODUCTS}{query}")
    tagged = {str(product.pk) for product in products[::2]}
    assert seen == [pk for pk in expected("final_price") if pk in tagged]
