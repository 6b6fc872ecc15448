"""Catalog endpoints through the generic endpoint tests."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from apps.catalog import views
from apps.catalog.models import Banner, Category, Product
from tests import api_cases as api
from tests.catalog import factories as f
from tests.envelope import assert_envelope
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
BASE = "/api/v1/catalog/"


class PublicReads:
    """Catalog reads are open to everyone: the 401/403 read tests do not apply."""

    def test_list_anonymous_is_401(self) -> None:
        pytest.skip("public: see test_anonymous_may_browse")

    def test_list_without_permission_is_403(self) -> None:
        pytest.skip("public: see test_anonymous_may_browse")

    def test_retrieve_anonymous_is_401(self) -> None:
        pytest.skip("public: see test_anonymous_may_browse")

    def test_retrieve_without_permission_is_403(self) -> None:
        pytest.skip("public: see test_anonymous_may_browse")

    def test_anonymous_may_browse(self) -> None:
        instance = self.make(UserFactory())  # type: ignore[attr-defined]
        client = api.client_for(None)
        assert_envelope(client.get(self.url), 200)  # type: ignore[attr-defined]
        assert_envelope(client.get(self.detail_url(instance)), 200)  # type: ignore[attr-defined]


class TestCategoryEndpoint(
    PublicReads, api.List, api.Retrieve, api.Create, api.BulkCreate, api.Update, api.Delete
):
    url = BASE + "categories/"
    view = views.CategoryViewSet
    model = Category
    feature = "catalog.categories"
    invalid_payload = {"name": "", "slug": "not a slug"}
    invalid_attr = "slug"
    update_payload = {"name": "Renamed"}
    update_invalid_payload = {"slug": "bad slug!"}
    update_invalid_attr = "slug"
    bulk_invalid_item = {"slug": "bad slug!"}
    bulk_invalid_attr = "slug"

    def make(self, owner: Any) -> Category:
        return f.category()

    def create_payload(self) -> dict[str, Any]:
        n = Category.all_objects.count() + 1000
        return {"name": f"Cat {n}", "slug": f"cat-{n}"}

    def bulk_payload(self, count: int) -> list[dict[str, Any]]:
        start = Category.all_objects.count() + 5000
        return [{"name": f"Bulk {start + i}", "slug": f"bulk-{start + i}"} for i in range(count)]


class TestProductEndpoint(
    PublicReads, api.List, api.Retrieve, api.Create, api.BulkCreate, api.Update, api.Delete
):
    url = BASE + "products/"
    view = views.ProductViewSet
    model = Product
    feature = "catalog.products"
    versioned = True
    invalid_payload = {"name": "X", "price": "-1", "discount_percent": 101}
    invalid_attr = "discount_percent"
    update_payload = {"name": "Renamed", "stock": 9}
    update_invalid_payload = {"discount_percent": -1}
    update_invalid_attr = "discount_percent"
    bulk_invalid_item = {"price": "free"}
    bulk_invalid_attr = "price"

    def make(self, owner: Any) -> Product:
        return f.product()

    def create_payload(self) -> dict[str, Any]:
        return f.product_payload(f.category().pk)

    def bulk_payload(self, count: int) -> list[dict[str, Any]]:
        parent = f.category()
        tag = f.tag()
        return [f.product_payload(parent.pk, tags=[str(tag.pk)]) for _ in range(count)]


class TestBannerEndpoint(PublicReads, api.List, api.Retrieve, api.Create, api.Update, api.Delete):
    url = BASE + "banners/"
    view = views.BannerViewSet
    model = Banner
    feature = "catalog.banners"
    invalid_payload = {
        "title": "",
        "starts_at": "2030-01-02T00:00:00Z",
        "ends_at": "2030-01-01T00:00:00Z",
    }
    invalid_attr = "title"
    update_payload = {"title": "Renamed"}
    update_invalid_payload = {"ends_at": "2000-01-01T00:00:00Z"}
    update_invalid_attr = "ends_at"

    def make(self, owner: Any) -> Banner:
        now = timezone.now()
        return Banner.objects.create(
            title="Sale", starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=1)
        )

    def create_payload(self) -> dict[str, Any]:
        now = timezone.now()
        return {
            "title": "New",
            "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(days=2)).isoformat(),
        }


class TestProductImageEndpoint(api.Action):
    url = BASE + "products/{id}/image/"
    view = views.ProductImageUploadAPIView
    feature = "catalog.products"
    invalid_payload = {"other": "x"}
    invalid_attr = "file"

    def prepare(self, user: Any) -> str:
        self.product = f.product()
        return self.url.format(id=self.product.pk)

    def call(self, user: Any, url: str, payload: Any) -> Any:
        return api.client_for(user).post(url, payload, format="multipart")

    def call_payload(self) -> dict[str, Any]:
        from django.core.files.uploadedfile import SimpleUploadedFile

        return {"file": SimpleUploadedFile("p.png", b"\x89PNG\r\n\x1a\n" + bytes(64))}

    def test_action_without_permission_is_403(self) -> None:
        url = self.prepare(None)
        reader = UserFactory()
        api.grant(reader, "catalog.products", flags=("retrieve",))
        from tests.envelope import assert_error

        assert_error(self.call(reader, url, self.call_payload()), 403, "permission_denied")
