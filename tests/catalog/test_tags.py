"""Tags a frontend can manage, and product writes that take tags as reads show them (names)
or by id; banner images through the upload factory (direct and pre-signed)."""

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse_lazy

from apps.catalog.models import Product, Tag
from apps.catalog.serializers import UNKNOWN_TAG_MESSAGE
from apps.core.exceptions import UNIQUE_MESSAGE
from apps.core.models import AuditLog, RolePermission
from apps.core.uploads.targets import UPLOAD_TARGETS
from tests import api_cases as api
from tests.catalog import factories as f
from tests.envelope import assert_envelope, assert_error
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
V1 = {"version": api.API_VERSION}
PRODUCTS = reverse_lazy("catalog-product-list", kwargs=V1)
TAGS = reverse_lazy("catalog-tag-list", kwargs=V1)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


@pytest.fixture
def editor() -> Any:
    """May write products and tags."""
    user = UserFactory()
    api.grant(user, "catalog.products")
    api.grant(user, "catalog.tags")
    return user


def product_url(pk: Any) -> str:
    """One product's URL."""
    return api.api_url("catalog-product-detail", pk=pk)


def tag_url(pk: Any) -> str:
    """One tag's URL."""
    return api.api_url("catalog-tag-detail", pk=pk)


# --- the tags endpoint -----------------------------------------------------------------------


def test_anyone_lists_tags_by_name_and_only_editors_write_them(editor: Any) -> None:
    for name in ("vegan", "new", "eco"):
        f.tag(name=name)
    f.tag(name="gone").soft_delete()
    body = assert_envelope(api.client_for(None).get(TAGS), 200)
    assert [row["name"] for row in body["data"]] == ["eco", "new", "vegan"]
    assert set(body["data"][0]) == {"id", "name", "created_at"}
    reader = UserFactory()
    api.grant(reader, "catalog.products")  # products are not tags
    assert_error(
        api.client_for(reader).post(TAGS, {"name": "x"}, format="json"), 403, "permission_denied"
    )
    created = assert_envelope(api.client_for(editor).post(TAGS, {"name": "x"}, format="json"), 201)
    assert created["data"]["name"] == "x"


def test_a_taken_live_name_is_a_400_unique_and_a_deleted_ones_name_is_free(editor: Any) -> None:
    client = api.client_for(editor)
    vegan = f.tag(name="vegan")
    assert_error(client.post(TAGS, {"name": "vegan"}, format="json"), 400, "unique", "name")
    body = assert_envelope(client.post(TAGS, {"name": "vegan"}, format="json"), 400)
    assert body["errors"][0]["detail"] == UNIQUE_MESSAGE.format(model="tag", field="name")
    other = f.tag(name="other")
    assert_error(
        client.patch(tag_url(other.pk), {"name": "vegan"}, format="json"), 400, "unique", "name"
    )
    assert_envelope(client.delete(tag_url(vegan.pk)), 200)
    assert_envelope(client.post(TAGS, {"name": "vegan"}, format="json"), 201)


def test_a_bulk_of_tags_refuses_a_name_twice_in_the_batch_by_index(editor: Any) -> None:
    payload = [{"name": "a"}, {"name": "b"}, {"name": "a"}]
    assert_error(api.client_for(editor).post(TAGS, payload, format="json"), 400, "unique", "2.name")
    assert not Tag.objects.filter(name__in=["a", "b"]).exists()


def test_a_deleted_tag_leaves_product_reads_and_the_tags_filter(editor: Any) -> None:
    product = f.product()
    vegan, new = f.tag(name="vegan"), f.tag(name="new")
    product.tags.add(vegan, new)
    client = api.client_for(editor)
    assert_envelope(client.delete(tag_url(vegan.pk)), 200)
    body = assert_envelope(api.client_for(None).get(product_url(product.pk)), 200)
    assert body["data"]["tags"] == ["new"]
    listed = assert_envelope(api.client_for(None).get(f"{PRODUCTS}?tags=new"), 200)
    assert [row["id"] for row in listed["data"]] == [str(product.pk)]


def test_the_seeded_manager_role_edits_tags_as_it_edits_products() -> None:
    from io import StringIO

    from django.core.management import call_command

    call_command("seed", stdout=StringIO())
    grants = {
        grant.feature.code: grant
        for grant in RolePermission.objects.filter(role__code="manager").select_related("feature")
    }
    tags, products = grants["catalog.tags"], grants["catalog.products"]
    flags = ("can_create", "can_retrieve", "can_update", "can_delete", "scope")
    assert [getattr(tags, flag) for flag in flags] == [getattr(products, flag) for flag in flags]
    assert (
        RolePermission.objects.get(role__code="customer", feature__code="catalog.tags").can_create
        is False
    )


# --- tags in product writes -----------------------------------------------------------------


def test_a_product_post_takes_tag_names_and_ids_and_answers_the_read_shape(editor: Any) -> None:
    vegan, new, eco = f.tag(name="vegan"), f.tag(name="new"), f.tag(name="eco")
    payload = f.product_payload(f.category().pk, tags=["vegan", str(new.pk), "vegan", eco.name])
    client = api.client_for(editor)
    created = assert_envelope(client.post(PRODUCTS, payload, format="json"), 201)["data"]
    assert created["tags"] == ["eco", "new", "vegan"]  # names, by name, each once
    read = assert_envelope(client.get(product_url(created["id"])), 200)["data"]
    assert json.dumps(created) == json.dumps(read)
    stored = Product.objects.get(pk=created["id"])
    assert set(stored.tags.all()) == {vegan, new, eco}


def test_put_and_patch_take_names_and_the_answer_is_the_read_shape(editor: Any) -> None:
    product = f.product()
    product.tags.add(f.tag(name="old"))
    f.tag(name="vegan")
    f.tag(name="new")
    client = api.client_for(editor)
    patched = client.patch(
        product_url(product.pk), {"tags": ["vegan", "new"], "version": 1}, format="json"
    )
    body = assert_envelope(patched, 200)["data"]
    assert body["tags"] == ["new", "vegan"]
    put = {**f.product_payload(product.category_id), "tags": ["new"], "version": 2}
    body = assert_envelope(client.put(product_url(product.pk), put, format="json"), 200)["data"]
    assert body["tags"] == ["new"]
    read = assert_envelope(client.get(product_url(product.pk)), 200)["data"]
    assert json.dumps(body) == json.dumps(read)
    change = AuditLog.objects.filter(object_id=str(product.pk), action="update").count()
    assert change == 2


def test_an_unknown_tag_is_refused_naming_its_index_and_nothing_is_created(editor: Any) -> None:
    f.tag(name="vegan")
    payload = f.product_payload(f.category().pk, tags=["vegan", "brand-new", api.UNKNOWN_ID, 7])
    before = (Product.all_objects.count(), Tag.all_objects.count())
    body = assert_envelope(api.client_for(editor).post(PRODUCTS, payload, format="json"), 400)
    errors = {error["attr"]: error for error in body["errors"]}
    assert set(errors) == {"tags.1", "tags.2", "tags.3"}
    assert errors["tags.1"]["code"] == "does_not_exist"
    assert errors["tags.1"]["detail"] == UNKNOWN_TAG_MESSAGE.format(value="brand-new")
    assert errors["tags.3"]["code"] == "incorrect_type"
    assert (Product.all_objects.count(), Tag.all_objects.count()) == before


def test_a_form_tag_with_a_null_character_is_refused_by_index_never_queried(editor: Any) -> None:
    """Schemathesis on PostgreSQL: a form's tag `\\x00\\x19` reached the tag query (a 500).
    JSON bodies never get this far: the strict parser refuses a NUL (400 parse_error)."""
    f.tag(name="vegan")
    payload = {**f.product_payload(f.category().pk), "tags": ["vegan", "\x00\x19"]}
    response = api.client_for(editor).post(PRODUCTS, payload, format="multipart")
    errors = assert_envelope(response, 400)["errors"]
    assert [(e["attr"], e["code"]) for e in errors] == [("tags.1", "null_characters_not_allowed")]
    assert not Product.all_objects.filter(sku=payload["sku"]).exists()


def test_a_deleted_tags_name_or_id_is_unknown(editor: Any) -> None:
    gone = f.tag(name="gone")
    gone.soft_delete()
    client = api.client_for(editor)
    for value in ("gone", str(gone.pk)):
        payload = f.product_payload(f.category().pk, tags=[value])
        assert_error(client.post(PRODUCTS, payload, format="json"), 400, "does_not_exist", "tags.0")


def test_tags_must_be_a_list(editor: Any) -> None:
    payload = f.product_payload(f.category().pk, tags="vegan")
    assert_error(
        api.client_for(editor).post(PRODUCTS, payload, format="json"), 400, "not_a_list", "tags"
    )


def test_a_bulk_create_by_names_reads_the_tags_once_and_names_the_bad_item(editor: Any) -> None:
    category = f.category()
    names = [f.tag().name for _ in range(5)]
    client = api.client_for(editor)
    payload = [f.product_payload(category.pk, tags=[name, names[0]]) for name in names]
    with CaptureQueriesContext(connection) as queries:
        body = assert_envelope(client.post(PRODUCTS, payload, format="json"), 201)
    assert [row["tags"] for row in body["data"]] == [sorted({name, names[0]}) for name in names]
    reads = [q["sql"] for q in queries.captured_queries if 'FROM "catalog_tag"' in q["sql"]]
    validation = [sql for sql in reads if "INSERT" not in sql]
    assert len(validation) <= 2, validation  # one lookup for the batch, one read of the answer
    bad = [
        f.product_payload(category.pk, tags=[names[0]]),
        f.product_payload(category.pk, tags=["nope"]),
    ]
    assert_error(client.post(PRODUCTS, bad, format="json"), 400, "does_not_exist", "1.tags.0")


# --- banner images ---------------------------------------------------------------------------


def test_a_banner_image_upload_stores_the_file_and_the_list_shows_it() -> None:
    editor = UserFactory()
    api.grant(editor, "catalog.banners")
    banner = f.BannerFactory()
    url = api.api_url("catalog-banner-image", pk=banner.pk)
    upload = {"file": SimpleUploadedFile("banner.png", PNG)}
    body = assert_envelope(api.client_for(editor).post(url, upload, format="multipart"), 200)
    assert body["data"]["id"] == str(banner.pk)
    assert body["data"]["image"].endswith(".png")
    listed = assert_envelope(api.client_for(None).get(api.api_url("catalog-banner-list")), 200)
    assert listed["data"][0]["image"]
    assert listed["data"][0]["image"].endswith(body["data"]["image"])  # absolute in reads
    assert AuditLog.objects.filter(object_id=str(banner.pk), action="update").exists()


def test_a_banner_image_is_a_presign_target_for_banner_editors_only() -> None:
    target = UPLOAD_TARGETS["catalog.banner.image"]
    assert target.feature == "catalog.banners"
    banner = f.BannerFactory()
    request = {
        "target": "catalog.banner.image",
        "object_id": str(banner.pk),
        "filename": "big.png",
        "content_type": "image/png",
        "size": 5_000_000,
    }
    presign = api.api_url("upload-presign")
    editor = UserFactory()
    api.grant(editor, "catalog.banners")
    body = assert_envelope(api.client_for(editor).post(presign, request, format="json"), 200)
    assert body["data"]["upload_token"]
    product_editor = UserFactory()
    api.grant(product_editor, "catalog.products")
    assert_error(
        api.client_for(product_editor).post(presign, request, format="json"),
        403,
        "permission_denied",
    )


def test_a_form_encoded_product_write_takes_repeated_tag_names(editor: Any) -> None:
    f.tag(name="vegan")
    f.tag(name="new")
    payload = {**f.product_payload(f.category().pk), "tags": ["vegan", "new"]}
    response = api.client_for(editor).post(PRODUCTS, payload, format="multipart")
    assert assert_envelope(response, 201)["data"]["tags"] == ["new", "vegan"]
