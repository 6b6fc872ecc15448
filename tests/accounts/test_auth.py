"""Register, login, refresh rotation, logout and throttling of /api/v1/auth/."""

import pytest
from django.db import connection
from django.urls import reverse_lazy
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.accounts.services import (
    EMAIL_TAKEN_MESSAGE,
    INVALID_CREDENTIALS_MESSAGE,
    INVALID_REFRESH_MESSAGE,
)
from tests.api_cases import API_VERSION
from tests.conftest import bearer
from tests.envelope import assert_envelope, assert_error
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.http import post_in_parallel

pytestmark = pytest.mark.django_db

V1 = {"version": API_VERSION}
REGISTER = reverse_lazy("accounts:register", kwargs=V1)
LOGIN = reverse_lazy("accounts:login", kwargs=V1)
REFRESH = reverse_lazy("accounts:refresh", kwargs=V1)
LOGOUT = reverse_lazy("accounts:logout", kwargs=V1)
ME = reverse_lazy("accounts:me", kwargs=V1)
PASSWORD_CHANGE = reverse_lazy("accounts:password-change", kwargs=V1)
USER_KEYS = {"id", "email", "name", "phone", "roles", "date_joined"}


def login(client: APIClient, email: str, password: str = DEFAULT_PASSWORD) -> dict[str, str]:
    """Log in and return the token pair."""
    response = client.post(LOGIN, {"email": email, "password": password}, format="json")
    return assert_envelope(response, 200)["data"]


# --- register ---------------------------------------------------------------------------


def test_register_creates_user_and_returns_it(api_client: APIClient) -> None:
    payload = {"email": "New@Example.com", "password": DEFAULT_PASSWORD, "name": "Ada"}
    body = assert_envelope(api_client.post(REGISTER, payload, format="json"), 201)
    assert set(body["data"]) == USER_KEYS
    assert body["data"]["email"] == "new@example.com"
    assert body["data"]["roles"] == []
    user = User.objects.get(email="new@example.com")
    assert user.check_password(DEFAULT_PASSWORD)
    assert user.password.startswith("md5$") or user.password.startswith("argon2")


def test_register_duplicate_email_is_400_on_email(api_client: APIClient) -> None:
    UserFactory(email="taken@example.com")
    payload = {"email": "TAKEN@example.com", "password": DEFAULT_PASSWORD, "name": "Bob"}
    body = assert_error(api_client.post(REGISTER, payload, format="json"), 400, "unique", "email")
    assert body["errors"][0]["detail"] == EMAIL_TAKEN_MESSAGE


def test_register_email_of_soft_deleted_account_is_free_again(api_client: APIClient) -> None:
    UserFactory(email="gone@example.com").soft_delete()
    payload = {"email": "gone@example.com", "password": DEFAULT_PASSWORD, "name": "Back"}
    assert_envelope(api_client.post(REGISTER, payload, format="json"), 201)
    assert User.all_objects.filter(email="gone@example.com").count() == 2


@pytest.mark.parametrize(
    ("payload", "code", "attr"),
    [
        ({}, "required", "email"),
        ({"email": "a@example.com", "name": "A"}, "required", "password"),
        ({"email": "not-an-email", "password": DEFAULT_PASSWORD, "name": "A"}, "invalid", "email"),
        (
            {"email": "a@example.com", "password": "short", "name": "A"},
            "password_too_short",
            "password",
        ),
        (
            {"email": "a@example.com", "password": "password123", "name": "A"},
            "password_too_common",
            "password",
        ),
        (
            {"email": "a@example.com", "password": DEFAULT_PASSWORD, "name": "x" * 151},
            "max_length",
            "name",
        ),
        (
            {"email": ["a@example.com"], "password": DEFAULT_PASSWORD, "name": "A"},
            "invalid",
            "email",
        ),
    ],
)
def test_register_bad_input_is_400_with_attr(
    api_client: APIClient, payload: dict[str, object], code: str, attr: str
) -> None:
    assert_error(api_client.post(REGISTER, payload, format="json"), 400, code, attr)
    assert not User.objects.exists()


def test_register_response_never_contains_the_password(api_client: APIClient) -> None:
    payload = {"email": "p@example.com", "password": DEFAULT_PASSWORD, "name": "P"}
    response = api_client.post(REGISTER, payload, format="json")
    assert DEFAULT_PASSWORD.encode() not in response.content
    assert b"password" not in response.content


# --- login ------------------------------------------------------------------------------


def test_login_returns_a_token_pair_that_authenticates(api_client: APIClient, user: User) -> None:
    tokens = login(api_client, user.email.upper())
    assert set(tokens) == {"access", "refresh"}
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert assert_envelope(api_client.get(ME), 200)["data"]["id"] == str(user.pk)
    user.refresh_from_db()
    assert user.last_login is not None


@pytest.mark.parametrize(
    ("email", "password"),
    [("user0@example.com", "wrong-password"), ("nobody@example.com", DEFAULT_PASSWORD)],
)
def test_login_wrong_credentials_is_401_with_one_message(
    api_client: APIClient, email: str, password: str
) -> None:
    UserFactory(email="user0@example.com")
    response = api_client.post(LOGIN, {"email": email, "password": password}, format="json")
    body = assert_error(response, 401, "authentication_failed")
    assert body["message"] == INVALID_CREDENTIALS_MESSAGE


def test_login_inactive_or_deleted_user_is_401(api_client: APIClient) -> None:
    UserFactory(email="off@example.com", is_active=False)
    UserFactory(email="del@example.com").soft_delete()
    for email in ("off@example.com", "del@example.com"):
        payload = {"email": email, "password": DEFAULT_PASSWORD}
        assert_error(api_client.post(LOGIN, payload, format="json"), 401, "authentication_failed")


def test_login_missing_fields_is_400(api_client: APIClient) -> None:
    response = api_client.post(LOGIN, {"email": ""}, format="json")
    assert_error(response, 400, "blank", "email")
    assert_error(response, 400, "required", "password")


@pytest.mark.usefixtures("frozen_throttle_clock")
def test_sixth_login_attempt_in_a_minute_is_429(api_client: APIClient, user: User) -> None:
    for _ in range(5):
        login(api_client, user.email)
    response = api_client.post(
        LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


@pytest.mark.usefixtures("frozen_throttle_clock")
def test_forged_forwarded_for_does_not_reset_the_login_limit(
    api_client: APIClient, user: User
) -> None:
    payload = {"email": user.email, "password": "wrong-password"}
    for n in range(5):
        api_client.post(LOGIN, payload, format="json", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    response = api_client.post(LOGIN, payload, format="json", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert_error(response, 429, "throttled")


@pytest.mark.usefixtures("frozen_throttle_clock")
def test_behind_one_trusted_proxy_the_client_is_the_last_forwarded_hop(
    api_client: APIClient, user: User, settings
) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    payload = {"email": user.email, "password": "wrong-password"}
    for _ in range(5):  # a client forges a first hop; the proxy appends the real address
        api_client.post(LOGIN, payload, format="json", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.1.1.1")
    limited = api_client.post(
        LOGIN, payload, format="json", HTTP_X_FORWARDED_FOR="7.7.7.7, 1.1.1.1"
    )
    assert_error(limited, 429, "throttled")
    other_client = api_client.post(LOGIN, payload, format="json", HTTP_X_FORWARDED_FOR="2.2.2.2")
    assert_error(other_client, 401, "authentication_failed")


# --- refresh and logout -----------------------------------------------------------------


def test_refresh_rotates_and_the_used_token_is_refused(api_client: APIClient, user: User) -> None:
    tokens = login(api_client, user.email)
    body = assert_envelope(api_client.post(REFRESH, {"refresh": tokens["refresh"]}), 200)
    assert set(body["data"]) == {"access", "refresh"}
    assert body["data"]["refresh"] != tokens["refresh"]
    reused = api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    body = assert_error(reused, 401, "token_revoked")
    assert body["message"] == INVALID_REFRESH_MESSAGE
    assert_error(api_client.post(REFRESH, {"refresh": ""}, format="json"), 400, "blank", "refresh")


def test_refresh_with_garbage_or_an_access_token_is_401(api_client: APIClient, user: User) -> None:
    tokens = login(api_client, user.email)
    for value in ("garbage", tokens["access"]):
        response = api_client.post(REFRESH, {"refresh": value}, format="json")
        assert_error(response, 401, "token_invalid")


def test_refresh_of_a_deactivated_user_is_401(api_client: APIClient, user: User) -> None:
    tokens = login(api_client, user.email)
    User.objects.filter(pk=user.pk).update(is_active=False)
    response = api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert_error(response, 401, "token_revoked")


def test_logout_revokes_the_refresh_token(api_client: APIClient, user: User) -> None:
    tokens = login(api_client, user.email)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    body = assert_envelope(api_client.post(LOGOUT, {"refresh": tokens["refresh"]}), 200)
    assert body["data"] is None
    refused = api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert_error(refused, 401, "token_revoked")
    api_client.credentials(HTTP_AUTHORIZATION=bearer(user))  # the old access token is revoked
    again = api_client.post(LOGOUT, {"refresh": tokens["refresh"]}, format="json")
    assert_envelope(again, 200)  # logging out twice is harmless


def test_logout_needs_no_access_token_but_a_valid_refresh_token(api_client: APIClient) -> None:
    """Issue 14: logout used to need the access token; the refresh token is the credential."""
    assert_error(
        api_client.post(LOGOUT, {"refresh": "x"}, format="json"), 400, "invalid", "refresh"
    )


def test_logout_with_someone_elses_or_a_bad_token_is_400(api_client: APIClient, user: User) -> None:
    other = UserFactory()
    other_tokens = login(api_client, other.email)
    mine = login(api_client, user.email)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {mine['access']}")
    for value in (other_tokens["refresh"], "garbage"):
        response = api_client.post(LOGOUT, {"refresh": value}, format="json")
        assert_error(response, 400, "invalid", "refresh")
    still_valid = api_client.post(REFRESH, {"refresh": other_tokens["refresh"]}, format="json")
    assert_envelope(still_valid, 200)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_let_exactly_one_win(live_server, user: User) -> None:
    """Eight clients race to rotate one refresh token on PostgreSQL; the row lock picks one."""
    assert connection.vendor == "postgresql"
    tokens = login(APIClient(), user.email)
    statuses = post_in_parallel(
        f"{live_server.url}{REFRESH}", {"refresh": tokens["refresh"]}, parallel=8
    )
    assert sorted(statuses) == [200] + [401] * 7, statuses


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("frozen_throttle_clock")
def test_parallel_logins_cannot_pass_the_login_limit(live_server, user: User) -> None:
    """Twenty wrong-password logins at once from one address: exactly five are checked."""
    statuses = post_in_parallel(
        f"{live_server.url}{LOGIN}",
        {"email": user.email, "password": "wrong-password"},
        parallel=20,
    )
    assert sorted(statuses) == [401] * 5 + [429] * 15, statuses


def test_logout_also_revokes_the_access_token_of_the_call(
    api_client: APIClient, user: User
) -> None:
    tokens = login(api_client, user.email)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert_envelope(api_client.post(LOGOUT, {"refresh": tokens["refresh"]}, format="json"), 200)
    body = assert_error(api_client.get(ME), 401, "token_revoked")
    assert body["errors"][0]["detail"] == "Access token has been revoked."


def test_a_password_change_revokes_older_access_tokens(api_client: APIClient, user: User) -> None:
    import time as _time

    old = login(api_client, user.email)
    _time.sleep(1.05)  # JWT iat has one-second resolution
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {old['access']}")
    payload = {"old_password": DEFAULT_PASSWORD, "new_password": "An0ther-Str0ng-One!"}
    fresh = assert_envelope(api_client.post(PASSWORD_CHANGE, payload, format="json"), 200)
    assert_error(api_client.get(ME), 401, "token_revoked")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {fresh['data']['access']}")
    assert_envelope(api_client.get(ME), 200)


def test_registration_gives_the_default_customer_role(api_client: APIClient, settings) -> None:
    """Issue 14: a new account could do nothing until an admin gave it a role."""
    from apps.core.models import Role, UserRole
    from apps.core.rbac.permissions import user_permissions

    Role.objects.create(code="customer", name="Customer")
    payload = {"email": "new@example.com", "password": DEFAULT_PASSWORD, "name": "New"}
    assert_envelope(api_client.post(REGISTER, payload, format="json"), 201)
    user = User.objects.get(email="new@example.com")
    assert list(UserRole.objects.filter(user=user).values_list("role__code", flat=True)) == [
        "customer"
    ]
    assert user_permissions(user=user) == {}  # the role's grants are the seed's business
    settings.REGISTRATION_DEFAULT_ROLE = ""
    other = {"email": "bare@example.com", "password": DEFAULT_PASSWORD, "name": "Bare"}
    assert_envelope(api_client.post(REGISTER, other, format="json"), 201)
    assert not UserRole.objects.filter(user__email="bare@example.com").exists()


def test_registration_without_the_default_role_in_the_database_still_works(
    api_client: APIClient,
) -> None:
    from apps.core.models import UserRole

    payload = {"email": "early@example.com", "password": DEFAULT_PASSWORD, "name": "Early"}
    assert_envelope(api_client.post(REGISTER, payload, format="json"), 201)
    assert not UserRole.objects.filter(user__email="early@example.com").exists()


def test_registration_refuses_privileges_and_unknown_fields_creating_nobody(
    api_client: APIClient,
) -> None:
    """Issue 14: `is_staff`, `roles` and a typo were silently dropped."""
    payload = {"email": "eager@example.com", "password": DEFAULT_PASSWORD, "name": "Eager"}
    payload |= {"is_staff": True, "roles": ["admin"], "nmae": "x"}
    body = assert_envelope(api_client.post(REGISTER, payload, format="json"), 400)
    assert {error["attr"]: error["code"] for error in body["errors"]} == {
        "is_staff": "read_only",
        "roles": "read_only",
        "nmae": "unknown_field",
    }
    assert not User.all_objects.filter(email="eager@example.com").exists()
