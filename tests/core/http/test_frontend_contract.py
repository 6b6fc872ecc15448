"""What a frontend meets first (issue 14, items 2, 3 and 5 in part): throttles that fit an
infinite-scroll page, the schema and docs never throttled and the schema in JSON, CORS for a
local dev server, and page-number lists that end with an empty page and cap their size."""

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from tests import api_cases as api
from tests.catalog.factories import ProductFactory
from tests.envelope import assert_envelope, assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_throttle_clock")]
PRODUCTS = "catalog-product-list"


def rates(monkeypatch: pytest.MonkeyPatch, **scopes: str) -> None:
    """Set throttle rates for the test (DRF read them into THROTTLE_RATES at import)."""
    for scope, rate in scopes.items():
        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, rate)


def test_an_infinite_scroll_page_pages_through_the_catalog_without_a_429() -> None:
    """Two pages a second for a minute (120 reads), anonymous, at the default rates: the
    `anon` rate (20/min) would have refused the 21st."""
    ProductFactory.create_batch(30)
    client = APIClient()
    url = api.api_url(PRODUCTS)
    statuses = {
        client.get(url, {"page": 1 + n % 3, "page_size": 10}).status_code for n in range(120)
    }
    assert statuses == {200}


def test_anonymous_public_reads_count_against_their_own_rate_and_429_in_the_envelope(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rates(monkeypatch, anon="1/min", public_read="3/min")
    client = APIClient()
    url = api.api_url(PRODUCTS)
    for _ in range(3):
        assert_envelope(client.get(url), 200)  # past the anon rate, within public_read
    refused = client.get(url)
    assert_error(refused, 429, "throttled")
    assert int(refused["Retry-After"]) > 0
    assert refused["Content-Type"].startswith("application/json")


def test_other_anonymous_requests_still_count_against_the_anon_rate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rates(monkeypatch, anon="1/min", public_read="100/min", login="100/min")
    client = APIClient()
    login = api.api_url("accounts:login")
    wrong = {"email": "nobody@example.com", "password": "wrong-password"}
    assert client.post(login, wrong, format="json").status_code == 401
    assert_error(client.post(login, wrong, format="json"), 429, "throttled")
    assert_envelope(client.get(api.api_url(PRODUCTS)), 200)  # the public read has its own


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_the_schema_and_the_docs_are_never_throttled(
    monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    rates(monkeypatch, anon="1/min", public_read="1/min", user="1/min")
    client = APIClient()
    assert {client.get(path).status_code for _ in range(4)} == {200}


def test_the_schema_is_json_unless_yaml_is_asked_for() -> None:
    client = APIClient()
    plain = client.get("/api/schema/")
    assert plain["Content-Type"].startswith("application/vnd.oai.openapi+json")
    assert json.loads(plain.content)["openapi"].startswith("3.")
    asked = client.get("/api/schema/", HTTP_ACCEPT="application/yaml")
    assert asked["Content-Type"].startswith("application/yaml")
    assert yaml.safe_load(asked.content)["openapi"].startswith("3.")


def test_the_local_settings_let_a_frontend_dev_server_call_the_api() -> None:
    """A real preflight from each local dev origin is answered; another origin is not.
    Production reads its origins from the environment only (base default: none)."""
    from config.settings import base

    if "CORS_ALLOWED_ORIGINS" not in os.environ:
        assert base.CORS_ALLOWED_ORIGINS == []  # production inherits base: none by default
    production = (Path(base.BASE_DIR) / "config" / "settings" / "production.py").read_text()
    assert "CORS_ALLOWED_ORIGINS" not in production
    client = APIClient()
    url = api.api_url(PRODUCTS)
    with override_settings(CORS_ALLOWED_ORIGINS=base.LOCAL_FRONTEND_ORIGINS):
        for origin in (
            "http://localhost:3000",
            "http://127.0.0.1:3000",
            "http://localhost:5173",
            "http://127.0.0.1:5173",
        ):
            preflight = client.options(
                url,
                HTTP_ORIGIN=origin,
                HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
                HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, idempotency-key",
            )
            assert preflight.status_code == 200, origin
            assert preflight["Access-Control-Allow-Origin"] == origin
            allowed = preflight["Access-Control-Allow-Headers"].lower()
            assert "authorization" in allowed and "idempotency-key" in allowed
        other = client.options(
            url, HTTP_ORIGIN="http://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
        )
        assert "Access-Control-Allow-Origin" not in other


def test_a_page_past_the_end_is_an_empty_page_pointing_back_to_the_last() -> None:
    ProductFactory.create_batch(5)
    body = assert_envelope(APIClient().get(api.api_url(PRODUCTS), {"page": 9, "page_size": 2}), 200)
    assert body["data"] == []
    meta = body["meta"]["pagination"]
    assert (meta["count"], meta["page"], meta["page_size"], meta["next"]) == (5, 9, 2, None)
    assert "page=3" in meta["previous"] and "page_size=2" in meta["previous"]


@pytest.mark.parametrize("page", ["0", "x", "-1"])
def test_a_page_that_is_not_a_page_number_is_still_a_404(page: str) -> None:
    ProductFactory()
    assert_error(APIClient().get(api.api_url(PRODUCTS), {"page": page}), 404, "not_found")


def test_an_empty_list_past_its_first_page_has_no_links() -> None:
    body = assert_envelope(APIClient().get(api.api_url(PRODUCTS), {"page": 2}), 200)
    assert body["data"] == []
    assert body["meta"]["pagination"]["previous"] is None


def test_an_oversized_page_size_is_capped_and_the_links_carry_the_cap(settings: Any) -> None:
    ProductFactory.create_batch(205)
    client = APIClient()
    first = assert_envelope(client.get(api.api_url(PRODUCTS), {"page_size": 500}), 200)
    meta = first["meta"]["pagination"]
    assert (len(first["data"]), meta["page_size"]) == (100, 100)
    assert "page_size=100" in meta["next"] and "page_size=500" not in meta["next"]
    second = assert_envelope(client.get(meta["next"]), 200)
    assert "page_size=100" in second["meta"]["pagination"]["previous"]
    assert {item["id"] for item in first["data"]}.isdisjoint(item["id"] for item in second["data"])


def test_an_anonymous_catalog_read_is_publicly_cacheable_for_a_short_while(settings: Any) -> None:
    """Item 8: ETag answers vary on Authorization; the public's catalog reads are `public`
    with a short max-age, their 304s too."""
    product = ProductFactory()
    client = APIClient()
    for url in (api.api_url(PRODUCTS), api.api_url("catalog-product-detail", pk=product.pk)):
        first = client.get(url)
        assert first["Cache-Control"] == f"public, max-age={settings.PUBLIC_CACHE_MAX_AGE}"
        assert "Authorization" in first["Vary"]
        again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304
        assert again["Cache-Control"] == first["Cache-Control"]
        assert "Authorization" in again["Vary"]


def test_a_read_that_depends_on_the_caller_is_private(settings: Any) -> None:
    """An editor sees inactive products too: their answer is theirs (private, revalidated)."""
    from tests.factories import UserFactory

    ProductFactory()
    editor = UserFactory()
    api.grant(editor, "catalog.products")
    response = api.client_for(editor).get(api.api_url(PRODUCTS))
    assert response.status_code == 200
    assert set(response["Cache-Control"].split(", ")) == {"private", "no-cache"}
    assert "Authorization" in response["Vary"]


def test_the_root_sends_a_browser_to_the_api_docs() -> None:
    response = APIClient().get("/")
    assert (response.status_code, response["Location"]) == (302, "/api/docs/")


def test_an_expired_access_token_says_so_and_an_invalid_one_too() -> None:
    """Item 6: `token_expired` tells a client to refresh, `token_invalid` to log in again."""
    from datetime import timedelta

    from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

    from tests.factories import UserFactory

    user = UserFactory()
    me = api.api_url("accounts:me")
    expired = AccessToken.for_user(user)
    expired.set_exp(lifetime=-timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {expired}")
    assert_error(client.get(me), 401, "token_expired")
    tampered = str(AccessToken.for_user(user))[:-4] + "AAAA"
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tampered}")
    assert_error(client.get(me), 401, "token_invalid")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user)}")  # wrong type
    assert_error(client.get(me), 401, "token_invalid")
    old_refresh = RefreshToken.for_user(user)
    old_refresh.set_exp(lifetime=-timedelta(seconds=1))
    refreshed = APIClient().post(
        api.api_url("accounts:refresh"), {"refresh": str(old_refresh)}, format="json"
    )
    assert_error(refreshed, 401, "token_expired")
