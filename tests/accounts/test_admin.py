"""The Django admin for users works for staff and shows no password hash."""

import pytest
from django.test import Client
from django.urls import reverse, reverse_lazy

from apps.accounts.models import User
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
USERS = reverse_lazy("admin:accounts_user_changelist")


@pytest.fixture
def admin_client_logged_in() -> Client:
    admin = User.objects.create_superuser("root@example.com", DEFAULT_PASSWORD, name="Root")
    client = Client()
    client.force_login(admin)
    return client


def test_user_changelist_search_and_filters_load(admin_client_logged_in: Client) -> None:
    UserFactory(email="findme@example.com")
    response = admin_client_logged_in.get(f"{USERS}?q=findme&is_staff__exact=0")
    assert response.status_code == 200
    assert b"findme@example.com" in response.content


def test_user_change_page_shows_decrypted_phone_and_no_hash(admin_client_logged_in: Client) -> None:
    user = UserFactory(phone="+14155550123")
    response = admin_client_logged_in.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert response.status_code == 200
    assert b"+14155550123" in response.content
    assert user.password.encode() not in response.content


def test_admin_can_add_a_user(admin_client_logged_in: Client) -> None:
    response = admin_client_logged_in.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "Added@Example.com",
            "name": "Added",
            "password1": DEFAULT_PASSWORD,
            "password2": DEFAULT_PASSWORD,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert User.objects.get(email__iexact="added@example.com").check_password(DEFAULT_PASSWORD)


def test_admin_requires_staff(client: Client) -> None:
    client.force_login(UserFactory())
    response = client.get(USERS)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
