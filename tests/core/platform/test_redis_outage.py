"""A Redis outage degrades the API instead of taking it down (issue 12): general throttles
count per process, security-critical scopes refuse with 503, authentication keeps working,
and revocations survive a Redis restart. Redis is made to fail by replacing the `guard`
cache's calls with ones that raise, as django-redis does when Redis is unreachable."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import caches
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from apps.core.http import throttles
from apps.core.http.throttles import LOCAL_WINDOWS, LocalWindows
from tests import api_cases as api
from tests.envelope import assert_envelope, assert_error
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def unreachable(*args: Any, **kwargs: Any) -> Any:
    raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.fixture
def guard_down(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    """Every call to the fail-closed cache fails, as with Redis stopped."""
    guard = caches["guard"]
    for name in ("add", "incr", "get", "get_many", "set"):
        monkeypatch.setattr(guard, name, unreachable)
    monkeypatch.setattr(throttles, "pipeline_run", unreachable)  # the counters' Redis path
    monkeypatch.setattr(LOCAL_WINDOWS, "_counts", {})
    monkeypatch.setattr(LOCAL_WINDOWS, "_window", {})


def test_public_reads_and_authenticated_reads_keep_answering(guard_down: None) -> None:
    assert_envelope(api.client_for(None).get(api.api_url("catalog-product-list")), 200)
    assert_envelope(api.client_for(UserFactory()).get(api.api_url("accounts:me")), 200)


def test_security_critical_scopes_refuse_with_503(guard_down: None) -> None:
    user = UserFactory()
    client = api.client_for(None)
    client.raise_request_exception = False  # a 5xx is reported (logs, Sentry) as it should be
    response = client.post(
        api.api_url("accounts:login"),
        {"email": user.email, "password": DEFAULT_PASSWORD},
        format="json",
    )
    assert_error(response, 503, "service_unavailable")


def test_general_rates_still_hold_per_process(guard_down: None, settings: Any) -> None:
    from apps.core.http.throttles import AtomicWindowThrottle

    rates = {**AtomicWindowThrottle.THROTTLE_RATES, "public_read": "3/min"}
    AtomicWindowThrottle.THROTTLE_RATES = rates
    try:
        client = api.client_for(None)
        url = api.api_url("catalog-product-list")
        statuses = [client.get(url).status_code for _ in range(4)]
    finally:
        AtomicWindowThrottle.THROTTLE_RATES = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert statuses == [200, 200, 200, 429]


def test_a_logged_out_token_stays_revoked_after_a_redis_restart() -> None:
    user = UserFactory()
    login = api.client_for(None).post(
        api.api_url("accounts:login"),
        {"email": user.email, "password": DEFAULT_PASSWORD},
        format="json",
    )
    pair = login.json()["data"]
    client = api.client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert_envelope(client.post(api.api_url("accounts:logout"), {"refresh": pair["refresh"]}), 200)
    for alias in ("default", "guard"):
        caches[alias].clear()  # Redis restarted empty
    assert_error(client.get(api.api_url("accounts:me")), 401, "token_revoked")


def test_the_local_windows_count_per_key_and_window() -> None:
    windows = LocalWindows()
    assert [windows.incr("a", 1) for _ in range(3)] == [1, 2, 3]
    assert windows.incr("b", 1) == 1
    assert windows.incr("a", 2) == 1  # a new window starts from zero


def test_the_local_windows_forget_earlier_windows_past_their_key_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Memory stays bounded through a long outage: past LOCAL_KEYS_MAX keys, the keys of
    earlier windows are dropped and the current window's kept."""
    from apps.core.http import throttles

    monkeypatch.setattr(throttles, "LOCAL_KEYS_MAX", 3)
    windows = LocalWindows()
    for key in ("a", "b", "c"):
        windows.incr(key, 1)
    windows.incr("a", 2)
    assert sorted(windows._window) == ["a", "b", "c"]  # at the limit: nothing dropped
    windows.incr("d", 2)  # past it: b and c (window 1) are forgotten
    assert sorted(windows._window) == ["a", "d"]
    assert windows.incr("a", 2) == 2  # the current window's counts are kept


def test_not_revoked_is_cached_briefly_so_a_lost_logout_write_heals_fast(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Review of issue 12: `not revoked` was cached for the token's whole life, so a logout
    whose cache write was lost left the token valid for up to 15 minutes. Sockets still
    check through the cache (briefly); HTTP reads the revocation with the user row."""
    import jwt
    from django.core.cache import cache

    from apps.core.platform.revocation import NOT_REVOKED_CACHE_SECONDS, access_token_is_revoked

    timeouts: list[Any] = []
    original = cache.add

    def recording_add(key: str, value: Any, timeout: Any = None, **kwargs: Any) -> Any:
        if key.startswith("revoked:jti:"):
            timeouts.append((value, timeout))
        return original(key, value, timeout=timeout, **kwargs)

    monkeypatch.setattr(cache, "add", recording_add)
    user = UserFactory()
    client = api.client_for(user)
    assert_envelope(client.get(api.api_url("accounts:me")), 200)
    assert timeouts == []  # HTTP: the user query answered, no cache read or write
    token = client._credentials["HTTP_AUTHORIZATION"].split()[1]  # type: ignore[attr-defined]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert access_token_is_revoked(token=claims, user=user) is False  # the socket path
    assert timeouts
    assert all(
        value is False and timeout <= NOT_REVOKED_CACHE_SECONDS for value, timeout in timeouts
    )


def test_a_revocation_the_cache_never_heard_of_is_refused_over_http_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A logout whose cache write was lost (only the database row exists) refuses the token
    on the very next request: HTTP reads the revocation with the user, not from the cache."""
    import jwt

    from apps.core.models.tokens import RevokedAccessToken

    user = UserFactory()
    client = api.client_for(user)
    assert_envelope(client.get(api.api_url("accounts:me")), 200)
    token = client._credentials["HTTP_AUTHORIZATION"].split()[1]  # type: ignore[attr-defined]
    claims = jwt.decode(token, options={"verify_signature": False})
    RevokedAccessToken.objects.create(
        jti=claims["jti"], expires_at=timezone.now() + timedelta(minutes=5)
    )
    assert_error(client.get(api.api_url("accounts:me")), 401, "token_revoked")
