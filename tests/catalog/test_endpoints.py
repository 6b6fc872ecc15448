"""Catalog endpoints through the generic endpoint tests."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.catalog import views
from apps.catalog.models import Banner, Category, Product, Tag
from tests import api_cases as api
from tests.catalog import factories as f
from tests.envelope import assert_error

pytestmark = pytest.mark.django_db


class TestCategoryEndpoint(
    api.List, api.Retrieve, api.Create, api.BulkCreate, api.Update, api.Delete
):
    """Categories: public reads, `catalog.categories` writes, bulk create."""

    url_name = "catalog-category"
    view = views.CategoryViewSet
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
        new = f.CategoryFactory.stub()
        return {"name": new.name, "slug": new.slug}

    def bulk_payload(self, count: int) -> list[dict[str, Any]]:
        return [self.create_payload() for _ in range(count)]


class TestTagEndpoint(api.List, api.Retrieve, api.Create, api.BulkCreate, api.Update, api.Delete):
    """Tags: public reads, `catalog.tags` writes, bulk create; names unique among live tags."""

    url_name = "catalog-tag"
    view = views.TagViewSet
    invalid_payload = {"name": ""}
    invalid_attr = "name"
    update_payload = {"name": "renamed"}
    update_invalid_payload = {"name": "x" * 61}
    update_invalid_attr = "name"
    bulk_invalid_item = {"name": ""}
    bulk_invalid_attr = "name"

    def make(self, owner: Any) -> Tag:
        return f.tag()

    def create_payload(self) -> dict[str, Any]:
        return {"name": f.TagFactory.stub().name}

    def bulk_payload(self, count: int) -> list[dict[str, Any]]:
        return [self.create_payload() for _ in range(count)]


class TestProductEndpoint(
    api.List, api.Retrieve, api.Create, api.BulkCreate, api.Update, api.Delete
):
    """Products: public reads, versioned `catalog.products` writes, bulk create with tags."""

    url_name = "catalog-product"
    view = views.ProductViewSet
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
        tag, named = f.tag(), f.tag()
        return [f.product_payload(parent.pk, tags=[str(tag.pk), named.name]) for _ in range(count)]


class TestBannerEndpoint(api.List, api.Retrieve, api.Create, api.Update, api.Delete):
    """Banners: the public list holds those active now; `catalog.banners` writes."""

    url_name = "catalog-banner"
    view = views.BannerViewSet
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
        return f.BannerFactory()

    def create_payload(self) -> dict[str, Any]:
        now = timezone.now()
        return {
            "title": "New",
            "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(days=2)).isoformat(),
        }


class TestProductImageEndpoint(api.Action):
    """The product image upload (multipart, `update` on `catalog.products`)."""

    url_name = "catalog-product-image"
    view = views.ProductImageUploadAPIView
    invalid_payload = {"other": "x"}
    invalid_attr = "file"

    def prepare(self, user: Any) -> str:
        self.product = f.product()
        return self.url_for(pk=self.product.pk)

    def call(self, user: Any, url: str, payload: Any) -> Any:
        return api.client_for(user).post(url, payload, format="multipart")

    def call_payload(self) -> dict[str, Any]:
        return {"file": SimpleUploadedFile("p.png", b"\x89PNG\r\n\x1a\n" + bytes(64))}

    def test_action_without_permission_is_403(self) -> None:
        url = self.prepare(None)
        response = self.call(self.reader(), url, self.call_payload())
        assert_error(response, 403, "permission_denied")


class TestBannerImageEndpoint(api.Action):
    """The banner image upload (multipart, `update` on `catalog.banners`)."""

    url_name = "catalog-banner-image"
    view = views.BannerImageUploadAPIView
    invalid_payload = {"other": "x"}
    invalid_attr = "file"

    def prepare(self, user: Any) -> str:
        self.banner = f.BannerFactory()
        return self.url_for(pk=self.banner.pk)

    def call(self, user: Any, url: str, payload: Any) -> Any:
        return api.client_for(user).post(url, payload, format="multipart")

    def call_payload(self) -> dict[str, Any]:
        return {"file": SimpleUploadedFile("b.png", b"\x89PNG\r\n\x1a\n" + bytes(64))}

    def test_action_without_permission_is_403(self) -> None:
        url = self.prepare(None)
        response = self.call(self.reader(), url, self.call_payload())
        assert_error(response, 403, "permission_denied")
