"""The Django admin for users works for staff and shows no password hash."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse, reverse_lazy

from apps.accounts.models import User
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
USERS = reverse_lazy("admin:accounts_user_changelist")


def test_user_changelist_search_and_filters_load(admin_client: Client) -> None:
    UserFactory(email="findme@example.com")
    response = admin_client.get(f"{USERS}?q=findme&is_staff__exact=0")
    assert response.status_code == 200
    assert b"findme@example.com" in response.content


def test_user_change_page_shows_decrypted_phone_and_no_hash(admin_client: Client) -> None:
    user = UserFactory(phone="+14155550123")
    response = admin_client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert response.status_code == 200
    assert b"+14155550123" in response.content
    assert user.password.encode() not in response.content


def test_admin_can_add_a_user(admin_client: Client) -> None:
    response = admin_client.post(
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


def test_a_password_set_in_the_admin_is_audited_and_revokes_every_token(
    admin_client: Client,
) -> None:
    from rest_framework_simplejwt.tokens import RefreshToken

    from apps.core.models import AuditLog
    from tests import api_cases as api

    user = UserFactory()
    refresh = RefreshToken.for_user(user)
    access = str(refresh.access_token)
    me = api.api_url("accounts:me")
    client = api.client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert client.get(me).status_code == 200
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": "An0ther-Passw0rd!", "password2": "An0ther-Passw0rd!"},
    )
    assert response.status_code == 302, response.content[:500]
    user.refresh_from_db()
    assert user.check_password("An0ther-Passw0rd!")
    row = AuditLog.objects.get(object_id=str(user.pk), action="update")
    assert row.changes["password"] == ["[REDACTED]", "[REDACTED]"]
    assert row.actor.email == "root@example.com"
    assert client.get(me).status_code == 401
    refreshed = api.client_for(None).post(
        api.api_url("accounts:refresh"), {"refresh": str(refresh)}
    )
    assert refreshed.status_code == 401


def role_form(feature_id: Any, scope: str, *flags: str) -> dict[str, Any]:
    """The "editor" role's admin form with one permission row (its inline formset)."""
    prefix = "permissions"
    return {
        "code": "editor",
        "name": "Editor",
        "description": "",
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-feature": str(feature_id),
        f"{prefix}-0-scope": scope,
        **{f"{prefix}-0-{flag}": "on" for flag in flags},
    }


def test_role_permission_changes_in_the_admin_inline_are_audited(
    admin_client: Client,
) -> None:
    from apps.core.models import AuditLog, Feature, Role

    role = Role.objects.create(code="editor", name="Editor")
    feature = Feature.objects.get_or_create(code="catalog.products", defaults={"name": "Products"})[
        0
    ]
    url = reverse("admin:core_role_change", args=[role.pk])
    refused = admin_client.post(url, role_form(feature.pk, "own", "can_update"))
    assert refused.status_code == 200  # the form again, with the error
    assert b"cannot apply to catalog.products" in refused.content
    assert not role.permissions.exists()
    response = admin_client.post(url, role_form(feature.pk, "all", "can_retrieve", "can_update"))
    assert response.status_code == 302, response.content[:800]
    row = AuditLog.objects.get(object_id=str(role.pk), action="update")
    assert row.changes == {"permissions": [[], ["catalog.products: retrieve,update (all)"]]}
    assert row.actor.email == "root@example.com"


def test_admin_permissions_given_to_a_user_are_audited(admin_client: Client) -> None:
    """Review of issue 12: a user's admin permissions changed without a trace. (Groups are
    not used, issue 14: the user form has no groups field.)"""
    from django.contrib.auth.models import Permission

    from apps.core.models import AuditLog

    user = UserFactory(email="staffer@example.com", name="Staffer", is_staff=True)
    permission = Permission.objects.get(codename="change_user")
    response = admin_client.post(
        reverse("admin:accounts_user_change", args=[user.pk]),
        {
            "email": user.email,
            "name": user.name,
            "phone": "",
            "is_active": "on",
            "is_staff": "on",
            "user_permissions": [permission.pk],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content[:800]
    row = AuditLog.objects.filter(object_id=str(user.pk), action="update").latest("created_at")
    assert row.changes == {"user_permissions": [[], ["accounts.change_user"]]}
    assert row.actor.email == "root@example.com"
