"""Catalog rules: prices, constraints, filters, caching, ETags, bulk, locking."""

import json
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, reverse_lazy
from django.utils import timezone

from apps.catalog.models import Banner, Product
from apps.core.models import AuditLog
from tests import api_cases as api
from tests.catalog import factories as f
from tests.envelope import assert_envelope, assert_error
from tests.factories import UserFactory
from tests.http import patch_in_parallel

pytestmark = pytest.mark.django_db
V1 = {"version": api.API_VERSION}
PRODUCTS = reverse_lazy("catalog-product-list", kwargs=V1)
BANNERS = reverse_lazy("catalog-banner-list", kwargs=V1)
CATEGORIES = reverse_lazy("catalog-category-list", kwargs=V1)
TRASH = reverse_lazy("trash-list", kwargs=V1)


@pytest.fixture
def manager() -> Any:
    user = UserFactory()
    api.grant(user, "catalog.products")
    return user


@pytest.fixture
def customer() -> Any:
    user = UserFactory()
    api.grant(user, "catalog.products", flags=("retrieve",))
    return user


def ids(response: Any) -> list[str]:
    """The ids of the rows of a 200 list answer."""
    return [row["id"] for row in assert_envelope(response, 200)["data"]]


def product_url(pk: Any) -> str:
    """One product's URL."""
    return api.api_url("catalog-product-detail", pk=pk)


def category_url(pk: Any) -> str:
    """One category's URL."""
    return api.api_url("catalog-category-detail", pk=pk)


def product_restore_url(pk: Any) -> str:
    """The trash's restore URL of one product."""
    return api.api_url("trash-restore", model="catalog.product", pk=pk)


@pytest.mark.parametrize("discount", [101, -1])
def test_a_discount_outside_0_to_100_is_400_on_discount_percent(
    manager: Any, discount: int
) -> None:
    payload = f.product_payload(f.category().pk, discount_percent=discount)
    assert_error(
        api.client_for(manager).post(PRODUCTS, payload, format="json"),
        400,
        "max_value" if discount > 100 else "min_value",
        "discount_percent",
    )


@pytest.mark.parametrize(
    "fields", [{"discount_percent": 101}, {"discount_percent": -1}, {"price": Decimal("-0.01")}]
)
def test_the_database_refuses_what_the_api_refuses(fields: dict[str, Any]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        f.product(**fields)


def test_a_duplicate_sku_is_refused_but_a_deleted_one_is_free(manager: Any) -> None:
    existing = f.product()
    client = api.client_for(manager)
    payload = f.product_payload(f.category().pk, sku=existing.sku)
    assert_error(client.post(PRODUCTS, payload, format="json"), 400, "unique", "sku")
    existing.soft_delete()
    assert_envelope(client.post(PRODUCTS, payload, format="json"), 201)


def test_a_customer_cannot_create_and_an_anonymous_caller_must_log_in(customer: Any) -> None:
    payload = f.product_payload(f.category().pk)
    assert_error(
        api.client_for(customer).post(PRODUCTS, payload, format="json"), 403, "permission_denied"
    )
    assert_error(
        api.client_for(None).post(PRODUCTS, payload, format="json"), 401, "not_authenticated"
    )
    assert not Product.objects.exists()


def test_final_price_is_computed_by_the_database_with_decimals(manager: Any) -> None:
    f.product(price=Decimal("80.00"), discount_percent=25)
    f.product(price=Decimal("10.00"), discount_percent=15)
    f.product(price=Decimal("1.00"), discount_percent=99)
    rows = assert_envelope(api.client_for(None).get(PRODUCTS + "?ordering=final_price"), 200)[
        "data"
    ]
    assert [(row["price"], row["final_price"]) for row in rows] == [
        ("1.00", "0.01"),
        ("10.00", "8.50"),
        ("80.00", "60.00"),
    ]


def test_the_list_leaves_the_description_out_and_stays_within_four_queries() -> None:
    parent = f.category()
    for _ in range(25):
        f.product(category=parent, description="a long text").tags.add(f.tag())
    client = api.client_for(None)
    with CaptureQueriesContext(connection) as queries:
        body = assert_envelope(client.get(PRODUCTS + "?page_size=25"), 200)
    assert len(queries) <= 4, [q["sql"][:120] for q in queries.captured_queries]
    assert all("description" not in row for row in body["data"])
    main = next(
        q["sql"]
        for q in queries.captured_queries
        if 'FROM "catalog_product"' in q["sql"] and "LIMIT" in q["sql"]
    )
    assert '"catalog_product"."description"' not in main
    detail = assert_envelope(client.get(product_url(body["data"][0]["id"])), 200)["data"]
    assert detail["description"] == "a long text"


def test_filters_search_and_ordering(manager: Any) -> None:
    root, other = f.category(), f.category()
    child = f.category(parent=root)
    red = f.tag(name="red")
    cheap = f.product(category=root, price=Decimal("5.00"), stock=0, name="Apple", sku="AAA-1")
    dear = f.product(category=child, price=Decimal("50.00"), stock=2, name="Banana", sku="BBB-2")
    dear.tags.add(red)
    hidden = f.product(
        category=other, price=Decimal("20.00"), is_active=False, name="Cherry", sku="CCC-3"
    )
    client = api.client_for(None)
    assert sorted(ids(client.get(f"{PRODUCTS}?category={root.pk}"))) == sorted(
        [str(cheap.pk), str(dear.pk)]
    )
    assert ids(client.get(f"{PRODUCTS}?min_price=10&max_price=60&is_active=true")) == [str(dear.pk)]
    assert ids(client.get(f"{PRODUCTS}?in_stock=false&is_active=true")) == [str(cheap.pk)]
    assert ids(client.get(f"{PRODUCTS}?tags=red")) == [str(dear.pk)]
    assert ids(client.get(f"{PRODUCTS}?search=bbb")) == [str(dear.pk)]
    assert ids(client.get(f"{PRODUCTS}?ordering=price")) == [str(cheap.pk), str(dear.pk)]
    assert ids(client.get(f"{PRODUCTS}?ordering=-name"))[0] == str(dear.pk)
    editor = api.client_for(manager)  # editors also see inactive products
    assert ids(editor.get(f"{PRODUCTS}?is_active=false")) == [str(hidden.pk)]
    assert ids(editor.get(f"{PRODUCTS}?ordering=-created_at"))[0] == str(hidden.pk)
    assert_error(client.get(f"{PRODUCTS}?min_price=cheap"), 400, "invalid", "min_price")
    assert_error(client.get(f"{PRODUCTS}?category=nope"), 400, "invalid", "category")


def test_a_list_after_an_update_shows_the_new_data(manager: Any) -> None:
    product = f.product(name="Old name")
    reader = api.client_for(None)
    assert assert_envelope(reader.get(PRODUCTS), 200)["data"][0]["name"] == "Old name"
    assert reader.get(PRODUCTS)["X-Cache"] == "hit"
    payload = {"name": "New name", "version": product.version}
    assert_envelope(
        api.client_for(manager).patch(product_url(product.pk), payload, format="json"), 200
    )
    assert assert_envelope(reader.get(PRODUCTS), 200)["data"][0]["name"] == "New name"


def test_conditional_gets_answer_304_to_a_matching_etag() -> None:
    product = f.product()
    client = api.client_for(None)
    for url in (PRODUCTS, product_url(product.pk)):
        first = client.get(url)
        assert first.status_code == 200
        etag = first["ETag"]
        again = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == 304
        assert again.content == b""
        assert client.get(url, HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_the_etag_changes_when_the_product_changes(manager: Any) -> None:
    product = f.product()
    client = api.client_for(None)
    etag = client.get(product_url(product.pk))["ETag"]
    api.client_for(manager).patch(
        product_url(product.pk), {"stock": 99, "version": 1}, format="json"
    )
    assert client.get(product_url(product.pk), HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_a_cache_hit_reads_the_cache_once_and_hashes_nothing(monkeypatch: Any) -> None:
    """Issue 13: a hit cost 8-11 cache round trips, rebuilt the annotated queryset to learn
    its namespaces and re-hashed the payload for its ETag. Now: one get_many of the entry
    and its namespaces' versions; the namespaces known per view; the ETag stored with the
    entry."""
    from django.core.cache import cache

    from apps.core.http.mixins import caching, conditional

    product = f.product()
    client = api.client_for(None)
    for url in (PRODUCTS, product_url(product.pk)):
        miss = client.get(url)
        assert miss["X-Cache"] == "miss"
        calls: list[str] = []
        hashed: list[Any] = []
        _count_cache_calls(monkeypatch, cache, calls)
        monkeypatch.setattr(conditional, "content_digest", hashed.append)
        monkeypatch.setattr(caching, "queryset_namespaces", hashed.append)
        hit = client.get(url)
        monkeypatch.undo()
        assert hit["X-Cache"] == "hit"
        assert hit["ETag"] == miss["ETag"]
        assert calls == ["get_many"], calls  # one MGET with Redis
        assert hashed == []


def test_an_anonymous_read_is_counted_by_one_rate_only(monkeypatch: Any) -> None:
    """Issue 13: DRF's user rate counted anonymous callers a second time, by address (more
    round trips to the throttle cache on every public read). Issue 14: a public read counts
    against `public_read`, not `anon`."""
    from apps.core.http.throttles import AtomicWindowThrottle

    f.product()
    counted: list[str] = []
    original = AtomicWindowThrottle._count

    def recording(self: Any, window_key: str) -> int:
        counted.append(window_key)
        return original(self, window_key)

    monkeypatch.setattr(AtomicWindowThrottle, "_count", recording)
    assert api.client_for(None).get(PRODUCTS).status_code == 200
    assert len(counted) == 1 and counted[0].startswith("throttle_public_read_"), counted


def test_a_product_post_costs_nine_statements_and_answers_what_a_read_gives(
    manager: Any,
) -> None:
    """Issue 13: a product POST with 3 tags took 15 statements (one query per tag id, two
    uniqueness probes, a re-read of the product and of its tags). Now 9 besides transaction
    control: the user (its token's revocation in the same query), its permissions, the
    category, the tags, one uniqueness probe, the three INSERTs (product, links, audit) and
    one read of the answer (the row, its joins and `final_price`; the tags come from the
    write). The answer is what a GET of the product gives, byte for byte."""
    category = f.category()
    tags = [f.tag(name=name) for name in ("zeta", "alpha", "Mid")]
    ids = [str(tag.pk) for tag in tags]
    body = f.product_payload(category.pk, tags=[ids[0], ids[1], ids[2], ids[0]])
    client = api.client_for(manager)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(PRODUCTS, body, format="json")
    assert_envelope(response, 201)
    statements = [query["sql"] for query in queries.captured_queries]
    work = [sql for sql in statements if not sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    assert len(work) == 9, work
    validation = statements[: next(i for i, sql in enumerate(statements) if "INSERT" in sql)]
    assert len([sql for sql in validation if 'FROM "catalog_tag"' in sql]) == 1
    assert len([sql for sql in validation if 'FROM "catalog_product"' in sql]) == 1
    created = response.json()["data"]
    read = client.get(f"{PRODUCTS}{created['id']}/")
    assert json.dumps(created) == json.dumps(read.json()["data"])  # key order included
    assert sorted(created["tags"]) == ["Mid", "alpha", "zeta"]  # the repeated id linked once


def _count_cache_calls(monkeypatch: Any, cache: Any, calls: list[str]) -> None:
    """Record the cache calls made by the code under test (not those a backend makes to
    itself: local memory's get_many calls its own get per key; Redis sends one MGET)."""
    depth = [0]
    for name in ("get", "get_many", "set", "add", "set_many", "incr", "delete"):
        original = getattr(cache, name)

        def counted(*args: Any, _name: str = name, _original: Any = original, **kw: Any) -> Any:
            if not depth[0]:
                calls.append(_name)
            depth[0] += 1
            try:
                return _original(*args, **kw)
            finally:
                depth[0] -= 1

        monkeypatch.setattr(cache, name, counted)


def test_the_public_banner_list_holds_only_banners_active_now() -> None:
    now = timezone.now()
    active = Banner.objects.create(
        title="On", starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)
    )
    Banner.objects.create(
        title="Later", starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=2)
    )
    Banner.objects.create(
        title="Over", starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1)
    )
    assert ids(api.client_for(None).get(BANNERS)) == [str(active.pk)]


def test_a_bulk_create_of_500_writes_500_audit_rows_and_row_499_invalid_writes_nothing(
    manager: Any,
) -> None:
    client = api.client_for(manager)
    parent = f.category()
    payload = [f.product_payload(parent.pk) for _ in range(500)]
    body = assert_envelope(client.post(PRODUCTS, payload, format="json"), 201)
    created = [row["id"] for row in body["data"]]
    assert len(created) == 500
    assert (
        AuditLog.objects.filter(
            model="catalog.product", action="create", object_id__in=created
        ).count()
        == 500
    )
    bad = [f.product_payload(parent.pk) for _ in range(500)]
    bad[499]["discount_percent"] = 150
    before = Product.all_objects.count()
    body = assert_envelope(client.post(PRODUCTS, bad, format="json"), 400)
    assert "499.discount_percent" in [error["attr"] for error in body["errors"]]
    assert Product.all_objects.count() == before


def test_the_product_image_refuses_svg_even_named_png(manager: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    product = f.product()
    svg = SimpleUploadedFile("x.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    url = api.api_url("catalog-product-image", pk=product.pk)
    response = api.client_for(manager).post(url, {"file": svg}, format="multipart")
    assert_error(response, 415, "file_type_not_allowed")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_updates_with_one_version_give_one_200_and_one_409(live_server: Any) -> None:
    manager = UserFactory()
    api.grant(manager, "catalog.products")
    product = f.product()
    url = f"{live_server.url}{product_url(product.pk)}"
    payloads = [{"version": 1, "stock": 7}, {"version": 1, "stock": 8}]
    statuses = sorted(
        patch_in_parallel(url, payloads, headers={"Authorization": api.bearer(manager)})
    )
    assert statuses == [200, 409]
    assert Product.objects.get(pk=product.pk).version == 2


def test_seed_makes_a_browsable_catalog(settings: Any, tmp_path: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    settings.BASE_DIR = tmp_path  # the demo credentials file goes there
    call_command("seed", stdout=StringIO())
    client = api.client_for(None)
    page = assert_envelope(client.get(PRODUCTS), 200)
    assert page["meta"]["pagination"]["count"] >= 190
    assert len(ids(client.get(BANNERS))) == 3
    categories = assert_envelope(client.get(f"{CATEGORIES}?page_size=50"), 200)["data"]
    assert any(row["parent"] for row in categories)


def test_bulk_update_with_versions_changes_every_product_or_none(manager: Any) -> None:
    first, second = f.product(), f.product()
    client = api.client_for(manager)
    payload = [
        {"id": str(first.pk), "version": 1, "stock": 11},
        {"id": str(second.pk), "version": 1, "stock": 22},
    ]
    body = assert_envelope(client.patch(PRODUCTS, payload, format="json"), 200)
    assert sorted(row["stock"] for row in body["data"]) == [11, 22]
    stale = [
        {"id": str(first.pk), "version": 2, "stock": 1},
        {"id": str(second.pk), "version": 1, "stock": 2},
    ]
    assert_error(client.patch(PRODUCTS, stale, format="json"), 409, "version_conflict", "1")
    assert Product.objects.get(pk=first.pk).stock == 11
    missing = [{"id": str(first.pk), "version": 2, "stock": 1}, {"id": str(second.pk), "stock": 2}]
    assert_error(client.patch(PRODUCTS, missing, format="json"), 400, "required", "1.version")
    assert Product.objects.get(pk=first.pk).stock == 11


def test_every_catalog_model_has_an_admin_with_search_and_the_trash_filter(
    admin_client: Any,
) -> None:
    product = f.product()
    Banner.objects.create(
        title="B", starts_at=timezone.now(), ends_at=timezone.now() + timedelta(days=1)
    )
    for name in ("category", "tag", "product", "banner"):
        for query in ("?q=a", "?deleted=deleted", "?deleted=all"):
            response = admin_client.get(reverse(f"admin:catalog_{name}_changelist") + query)
            assert response.status_code == 200, (name, query)
    change = reverse("admin:catalog_product_change", args=[product.pk])
    assert admin_client.get(change).status_code == 200


def test_the_seeded_manager_can_write_and_restore(settings: Any, tmp_path: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    from apps.accounts.models import User

    settings.BASE_DIR = tmp_path
    call_command("seed", stdout=StringIO())
    manager = User.objects.get(email="manager@example.com")
    client = api.client_for(manager)
    category_id = Product.objects.first().category_id
    created = assert_envelope(
        client.post(PRODUCTS, f.product_payload(category_id), format="json"), 201
    )["data"]
    assert_envelope(
        client.post(PRODUCTS, [f.product_payload(category_id) for _ in range(3)], format="json"),
        201,
    )
    url = product_url(created["id"])
    assert_envelope(
        client.patch(url, {"stock": 1, "version": created["version"]}, format="json"), 200
    )
    assert_envelope(client.delete(url), 200)
    assert_envelope(client.post(product_restore_url(created["id"])), 200)
    assert_envelope(client.get(url), 200)


def test_inactive_products_and_categories_are_hidden_from_the_public_only(manager: Any) -> None:
    off_category = f.category(is_active=False)
    in_off_category = f.product(category=off_category)
    off_product = f.product(is_active=False)
    visible = f.product()
    public, editor = api.client_for(None), api.client_for(manager)
    assert ids(public.get(PRODUCTS)) == [str(visible.pk)]
    assert_error(public.get(product_url(off_product.pk)), 404, "not_found")
    assert sorted(ids(editor.get(PRODUCTS))) == sorted(
        str(p.pk) for p in (in_off_category, off_product, visible)
    )
    assert public.get(PRODUCTS)["X-Cache"] == "hit"  # the public answer stayed the public's
    categories = ids(public.get(f"{CATEGORIES}?page_size=100"))
    assert str(off_category.pk) not in categories


def test_a_category_in_use_cannot_be_deleted() -> None:
    editor = UserFactory()
    api.grant(editor, "catalog.categories")
    client = api.client_for(editor)
    parent = f.category()
    child = f.category(parent=parent)
    used = f.category()
    f.product(category=used)
    empty = f.category()
    for category in (parent, used):
        body = assert_error(client.delete(category_url(category.pk)), 409, "conflict")
        assert "move or delete them first" in body["message"]
    assert_envelope(client.delete(category_url(empty.pk)), 200)
    assert_envelope(client.delete(category_url(child.pk)), 200)
    assert_envelope(client.delete(category_url(parent.pk)), 200)


def test_the_category_tree_cannot_loop() -> None:
    editor = UserFactory()
    api.grant(editor, "catalog.categories")
    client = api.client_for(editor)
    root = f.category()
    child = f.category(parent=root)
    for parent in (root, child):
        response = client.patch(category_url(root.pk), {"parent": str(parent.pk)}, format="json")
        assert_error(response, 400, "invalid", "parent")


def test_extreme_price_filters_are_400_not_500() -> None:
    client = api.client_for(None)
    for value in ("1e-16384", "-1e-99999", "1e400", "123456789012345"):
        assert_error(
            client.get(f"{PRODUCTS}?min_price={value}"),
            400,
            attr="min_price",
            code=client.get(f"{PRODUCTS}?min_price={value}").json()["errors"][0]["code"],
        )


def test_the_banner_cache_never_outlives_a_window_boundary() -> None:
    from apps.catalog.views import BannerViewSet

    now = timezone.now()
    Banner.objects.create(
        title="Flash", starts_at=now - timedelta(hours=1), ends_at=now + timedelta(seconds=2)
    )
    assert BannerViewSet().get_cache_timeout() <= 2
    Banner.objects.all().delete()
    assert BannerViewSet().get_cache_timeout() == 60


def test_a_repeated_tag_in_a_bulk_item_is_one_link(manager: Any) -> None:
    tag = f.tag()
    payload = [f.product_payload(f.category().pk, tags=[str(tag.pk), str(tag.pk)])]
    body = assert_envelope(api.client_for(manager).post(PRODUCTS, payload, format="json"), 201)
    assert body["data"][0]["tags"] == [tag.name]


def test_trash_access_follows_the_feature_delete_flag(manager: Any) -> None:
    product = f.product()
    product.soft_delete()
    client = api.client_for(manager)
    assert str(product.pk) in ids(client.get(f"{TRASH}?model=catalog.product"))
    assert_envelope(client.post(product_restore_url(product.pk)), 200)
    assert_error(client.get(f"{TRASH}?model=accounts.user"), 403, "permission_denied")
    assert_error(client.get(f"{TRASH}?model=catalog.category"), 403, "permission_denied")
    reader = UserFactory()
    api.grant(reader, "catalog.products", flags=("retrieve",))
    assert_error(
        api.client_for(reader).get(f"{TRASH}?model=catalog.product"), 403, "permission_denied"
    )


@pytest.mark.parametrize(
    ("attributes", "code", "attr"),
    [
        ("deep-700", "parse_error", None),  # what broke the detail page for everyone
        ("deep-6", "too_deep", "attributes"),
        ("keys-101", "too_many_keys", "attributes"),
        ("bytes-17k", "too_large", "attributes"),
        ("a-list", "not_an_object", "attributes"),
    ],
)
def test_product_attributes_are_bounded(attributes: str, code: str, attr: str | None) -> None:
    """Issue 12: an editor could store `attributes` nested about 700 levels deep, after which
    the product's detail GET failed with a RecursionError for everyone."""

    def nested(levels: int) -> dict[str, Any]:
        value: dict[str, Any] = {}
        for _ in range(levels - 1):
            value = {"a": value}
        return value

    values: dict[str, Any] = {
        "deep-700": nested(700),
        "deep-6": nested(6),
        "keys-101": {f"k{n}": n for n in range(101)},
        "bytes-17k": {"text": "x" * 17_000},
        "a-list": [1, 2],
    }
    editor = UserFactory()
    api.grant(editor, "catalog.products")
    payload = {**f.product_payload(f.category().pk), "attributes": values[attributes]}
    response = api.client_for(editor).post(
        api.api_url("catalog-product-list"), payload, format="json"
    )
    body = assert_error(response, 400, code, attr)
    assert body["errors"][0]["code"] == code
    allowed = {**payload, "attributes": nested(5) | {"size": "L"}}
    created = api.client_for(editor).post(
        api.api_url("catalog-product-list"), allowed, format="json"
    )
    assert created.status_code == 201, created.content[:300]
    detail = api.api_url("catalog-product-detail", pk=created.json()["data"]["id"])
    assert api.client_for(None).get(detail).status_code == 200


def test_admin_image_uploads_are_sniffed_and_stored_under_a_generated_name(
    admin_client: Any,
) -> None:
    """Review of issue 12: images uploaded in the admin kept the client's name (`poc.html`
    was stored and served as HTML) and were never sniffed."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    banner = Banner.objects.create(
        title="Sale", starts_at=timezone.now(), ends_at=timezone.now() + timedelta(days=1)
    )
    url = reverse("admin:catalog_banner_change", args=[banner.pk])
    fields = {
        "title": "Sale",
        "link": "",
        "position": 0,
        "starts_at_0": banner.starts_at.strftime("%Y-%m-%d"),
        "starts_at_1": banner.starts_at.strftime("%H:%M:%S"),
        "ends_at_0": banner.ends_at.strftime("%Y-%m-%d"),
        "ends_at_1": banner.ends_at.strftime("%H:%M:%S"),
    }
    page = b"<html><script>alert(1)</script></html>"
    refused = admin_client.post(url, {**fields, "image": SimpleUploadedFile("x.png", page)})
    assert refused.status_code == 200 and b"not allowed" in refused.content
    polyglot = b"\x89PNG\r\n\x1a\n" + bytes(16) + page
    saved = admin_client.post(url, {**fields, "image": SimpleUploadedFile("poc.html", polyglot)})
    assert saved.status_code == 302, saved.content[:500]
    banner.refresh_from_db()
    assert re.fullmatch(r"banners/[0-9a-f]{32}", banner.image.name), banner.image.name
