"""Login brute-force protection (issue 12: 40 wrong admin passwords in 11 s, then the right
one logged in): the admin login and the API login share one lockout per account and per
address, counted in the database."""

from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.test import Client
from django.urls import reverse

from apps.accounts.models import User
from tests import api_cases as api
from tests.envelope import assert_error
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
WRONG = "not-the-password"


@pytest.fixture(autouse=True)
def small_limit(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3


@pytest.fixture
def admin_user() -> User:
    return User.objects.create_superuser("root@example.com", DEFAULT_PASSWORD, name="Root")


def admin_login(client: Client, email: str, password: str) -> Any:
    return client.post(reverse("admin:login"), {"username": email, "password": password})


def api_login(email: str, password: str, ip: str = "127.0.0.1") -> Any:
    return api.client_for(None).post(
        api.api_url("accounts:login"),
        {"email": email, "password": password},
        format="json",
        REMOTE_ADDR=ip,
    )


def test_the_admin_login_locks_the_account_after_the_limit_even_for_the_right_password(
    admin_user: User,
) -> None:
    client = Client()
    for _ in range(2):
        assert admin_login(client, admin_user.email, WRONG).status_code == 200  # the form again
    assert admin_login(client, admin_user.email, WRONG).status_code == 429  # the limit: locked
    locked = admin_login(client, admin_user.email, DEFAULT_PASSWORD)
    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content
    assert "_auth_user_id" not in client.session
    assert AccessFailureLog.objects.filter(username=admin_user.email).count() >= 3


def test_failures_on_the_api_lock_the_admin_login_and_the_other_way_round(
    admin_user: User,
) -> None:
    for _ in range(2):
        assert_error(api_login(admin_user.email, WRONG), 401, "authentication_failed")
    assert_error(api_login(admin_user.email, WRONG), 429, "throttled")
    assert admin_login(Client(), admin_user.email, DEFAULT_PASSWORD).status_code == 429
    body = assert_error(api_login(admin_user.email, DEFAULT_PASSWORD), 429, "throttled")
    assert "Too many failed logins" in body["errors"][0]["detail"]

    other = UserFactory(email="other@example.com")
    client = Client(REMOTE_ADDR="10.0.0.9")
    for _ in range(3):
        admin_login(client, other.email, WRONG)
    response = api_login("OTHER@example.com", DEFAULT_PASSWORD, ip="10.0.0.10")
    assert_error(response, 429, "throttled")
    assert response["Retry-After"] == str(15 * 60)


def test_one_address_trying_many_accounts_is_locked_out(settings: Any) -> None:
    for n in range(2):
        assert_error(
            api_login(f"nobody{n}@example.com", WRONG, ip="10.1.1.1"), 401, "authentication_failed"
        )
    assert_error(api_login("nobody2@example.com", WRONG, ip="10.1.1.1"), 429, "throttled")
    user = UserFactory()
    assert_error(api_login(user.email, DEFAULT_PASSWORD, ip="10.1.1.1"), 429, "throttled")
    assert api_login(user.email, DEFAULT_PASSWORD, ip="10.1.1.2").status_code == 200


def test_a_success_before_the_limit_starts_the_account_count_again() -> None:
    user = UserFactory()
    for ip in ("10.2.0.1", "10.2.0.2"):  # each address stays under the limit on its own
        for _ in range(2):
            api_login(user.email, WRONG, ip=ip)
        assert api_login(user.email, DEFAULT_PASSWORD, ip=ip).status_code == 200
    assert not AccessAttempt.objects.filter(username=user.email, failures_since_start__gte=3)


def test_another_accounts_success_from_the_same_address_does_not_clear_the_count(
    admin_user: User,
) -> None:
    """Review of issue 12: axes' own reset on success deleted every failure from the address,
    so an attacker could clear the count by logging into their own account."""
    attacker = UserFactory()
    for _ in range(2):
        assert_error(
            api_login(admin_user.email, WRONG, ip="10.3.0.1"), 401, "authentication_failed"
        )
    assert api_login(attacker.email, DEFAULT_PASSWORD, ip="10.3.0.1").status_code == 200
    assert_error(api_login(admin_user.email, WRONG, ip="10.3.0.9"), 429, "throttled")


def test_wrong_old_passwords_on_password_change_count_toward_the_lockout() -> None:
    """Review of issue 12: with a stolen access token, `password/change/` allowed unlimited
    guesses of the password (throttled only, never locked)."""
    user = UserFactory()
    client = api.client_for(user)
    url = api.api_url("accounts:password-change")
    guess = {"old_password": WRONG, "new_password": "An0ther-Passw0rd!"}
    for _ in range(2):
        assert_error(client.post(url, guess, format="json"), 400, "invalid", "old_password")
    assert_error(client.post(url, guess, format="json"), 429, "throttled")
    right = {**guess, "old_password": DEFAULT_PASSWORD}
    assert_error(client.post(url, right, format="json"), 429, "throttled")
    assert_error(api_login(user.email, DEFAULT_PASSWORD, ip="10.4.0.1"), 429, "throttled")
