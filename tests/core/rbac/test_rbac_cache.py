"""A user's effective permissions: merged over roles, cached, and never served stale."""

import threading
from typing import Any

import pytest
from django.db import connection, transaction
from django.urls import path
from django.views import View
from rest_framework.exceptions import ValidationError

from apps.accounts.models import User
from apps.core.models import AuditAction, AuditLog, Feature, Role, RolePermission, UserRole
from apps.core.rbac.permissions import user_permission_scope, user_permissions
from apps.core.rbac.services import (
    UNKNOWN_ROLES_MESSAGE,
    features_sync,
    role_create,
    role_update,
    user_roles_set,
)

pytestmark = pytest.mark.django_db

PRODUCTS = "zz_test.products"
ORDERS = "zz_test.orders"
RETIRED = "zz_test.retired"
DECLARED = "zz_test.widgets"


class WidgetView(View):
    """A view that declares a feature, for features_sync to find."""

    feature = DECLARED


# The URLconf of the features_sync test (`pytest.mark.urls(__name__)`).
urlpatterns = [path("widgets/", WidgetView.as_view())]


def feature(code: str) -> Feature:
    """A live feature."""
    return Feature.objects.create(code=code, name=code)


def grant(role: Role, feature: Feature, *flags: str, scope: str = "own") -> RolePermission:
    """Give `role` these flags on `feature` with this scope."""
    return RolePermission.objects.create(
        role=role, feature=feature, scope=scope, **{f"can_{flag}": True for flag in flags}
    )


def role(code: str) -> Role:
    """A live role without permissions."""
    return Role.objects.create(code=code, name=code.title())


def warm(user: User, django_assert_num_queries: Any) -> dict[str, dict[str, str]]:
    """Fill the cache with one query; return the permissions."""
    with django_assert_num_queries(1):
        return user_permissions(user=user)


def test_permissions_merge_over_every_role_and_all_wins(user: User) -> None:
    products, orders = feature(PRODUCTS), feature(ORDERS)
    clerk, auditor, lead = role("clerk"), role("auditor"), role("lead")
    grant(clerk, products, "retrieve", "create", scope="own")
    grant(auditor, products, "retrieve", "delete", scope="all")
    grant(lead, products, "retrieve", "update", scope="own")
    grant(lead, orders, "retrieve", scope="own")
    for held in (clerk, auditor, lead):
        UserRole.objects.create(user=user, role=held)

    assert user_permissions(user=user) == {
        PRODUCTS: {"retrieve": "all", "create": "own", "delete": "all", "update": "own"},
        ORDERS: {"retrieve": "own"},
    }
    assert user_permission_scope(user=user, feature=ORDERS, flag="update") is None
    assert user_permission_scope(user=user, feature="zz_test.unknown", flag="retrieve") is None


def test_roles_not_held_and_deleted_grants_do_not_count(user: User) -> None:
    products = feature(PRODUCTS)
    held, other = role("held"), role("other")
    grant(other, products, "create", scope="all")
    gone = grant(held, products, "update", scope="all")
    gone.soft_delete()
    grant(held, products, "retrieve")
    UserRole.objects.create(user=user, role=held)

    assert user_permissions(user=user) == {PRODUCTS: {"retrieve": "own"}}


def test_user_without_roles_has_no_permissions_and_that_is_cached_too(
    user: User, django_assert_num_queries: Any
) -> None:
    assert warm(user, django_assert_num_queries) == {}
    with django_assert_num_queries(0):
        assert user_permissions(user=user) == {}


def test_warm_call_makes_no_query(user: User, django_assert_num_queries: Any) -> None:
    held = role("clerk")
    grant(held, feature(PRODUCTS), "retrieve")
    UserRole.objects.create(user=user, role=held)
    warm(user, django_assert_num_queries)

    with django_assert_num_queries(0):
        assert user_permission_scope(user=user, feature=PRODUCTS, flag="retrieve") == "own"
        assert user_permissions(user=user) == {PRODUCTS: {"retrieve": "own"}}


def test_adding_a_user_role_is_seen_on_the_next_call(
    user: User, django_assert_num_queries: Any
) -> None:
    held = role("clerk")
    grant(held, feature(PRODUCTS), "retrieve")
    assert warm(user, django_assert_num_queries) == {}

    UserRole.objects.create(user=user, role=held)

    assert user_permissions(user=user) == {PRODUCTS: {"retrieve": "own"}}


def test_another_users_cache_is_untouched_by_my_role_change(
    user: User, django_assert_num_queries: Any
) -> None:
    other = User.objects.create(email="other@example.com")
    held = role("clerk")
    grant(held, feature(PRODUCTS), "retrieve")
    UserRole.objects.create(user=other, role=held)
    warm(other, django_assert_num_queries)

    UserRole.objects.create(user=user, role=held)

    with django_assert_num_queries(0):
        assert user_permissions(user=other) == {PRODUCTS: {"retrieve": "own"}}


def test_user_roles_set_adds_and_removes_roles_and_is_seen_at_once(
    user: User, django_assert_num_queries: Any
) -> None:
    products = feature(PRODUCTS)
    clerk, auditor = role("clerk"), role("auditor")
    grant(clerk, products, "retrieve")
    grant(auditor, products, "delete", scope="all")
    user_roles_set(user=user, role_codes=["clerk"])
    assert warm(user, django_assert_num_queries) == {PRODUCTS: {"retrieve": "own"}}

    assert user_roles_set(user=user, role_codes=["auditor"]) == ["auditor"]

    assert user_permissions(user=user) == {PRODUCTS: {"delete": "all"}}
    assert list(UserRole.objects.filter(user=user).values_list("role__code", flat=True)) == [
        "auditor"
    ]


def test_removing_a_user_role_is_seen_on_the_next_call(
    user: User, django_assert_num_queries: Any
) -> None:
    held = role("clerk")
    grant(held, feature(PRODUCTS), "retrieve")
    user_role = UserRole.objects.create(user=user, role=held)
    assert warm(user, django_assert_num_queries) == {PRODUCTS: {"retrieve": "own"}}

    user_role.soft_delete()

    assert user_permissions(user=user) == {}


def test_changing_a_role_permission_is_seen_on_the_next_call(
    user: User, django_assert_num_queries: Any
) -> None:
    held = role("clerk")
    permission = grant(held, feature(PRODUCTS), "retrieve")
    UserRole.objects.create(user=user, role=held)
    assert warm(user, django_assert_num_queries) == {PRODUCTS: {"retrieve": "own"}}

    permission.can_update = True
    permission.scope = "all"
    permission.save()

    assert user_permissions(user=user) == {PRODUCTS: {"retrieve": "all", "update": "all"}}


def test_role_update_replacing_permissions_is_seen_on_the_next_call(
    user: User, django_assert_num_queries: Any
) -> None:
    products, orders = feature(PRODUCTS), feature(ORDERS)
    held = role("clerk")
    grant(held, products, "retrieve")
    UserRole.objects.create(user=user, role=held)
    assert warm(user, django_assert_num_queries) == {PRODUCTS: {"retrieve": "own"}}

    role_update(
        role=held,
        data={"permissions": [{"feature": orders, "can_create": True, "scope": "all"}]},
    )

    assert user_permissions(user=user) == {ORDERS: {"create": "all"}}


def test_soft_deleting_a_role_is_seen_on_the_next_call(
    user: User, django_assert_num_queries: Any
) -> None:
    products = feature(PRODUCTS)
    kept, dropped = role("kept"), role("dropped")
    grant(kept, products, "retrieve")
    grant(dropped, products, "retrieve", "update", scope="all")
    UserRole.objects.create(user=user, role=kept)
    UserRole.objects.create(user=user, role=dropped)
    assert warm(user, django_assert_num_queries) == {PRODUCTS: {"retrieve": "all", "update": "all"}}

    dropped.soft_delete()

    assert user_permissions(user=user) == {PRODUCTS: {"retrieve": "own"}}


@pytest.mark.urls(__name__)
def test_features_sync_retiring_a_feature_is_seen_on_the_next_call(
    user: User, django_assert_num_queries: Any
) -> None:
    held = role("clerk")
    grant(held, feature(RETIRED), "retrieve", scope="all")
    UserRole.objects.create(user=user, role=held)
    assert warm(user, django_assert_num_queries) == {RETIRED: {"retrieve": "all"}}

    result = features_sync()

    assert DECLARED in result["created"]
    assert RETIRED in result["retired"]
    assert list(Feature.objects.values_list("code", "name")) == [(DECLARED, "Zz Test Widgets")]
    assert user_permissions(user=user) == {}


@pytest.mark.urls(__name__)
def test_features_sync_twice_changes_nothing_the_second_time() -> None:
    features_sync()

    assert features_sync() == {"created": [], "retired": []}
    assert list(Feature.objects.values_list("code", flat=True)) == [DECLARED]
    assert Feature.all_objects.filter(code=DECLARED).count() == 1


def test_user_roles_set_rejects_unknown_codes_and_changes_nothing(user: User) -> None:
    role("clerk")
    gone = role("retired")
    gone.soft_delete()

    with pytest.raises(ValidationError) as caught:
        user_roles_set(user=user, role_codes=["clerk", "nope", "retired"])

    assert caught.value.detail == {"roles": [UNKNOWN_ROLES_MESSAGE.format(codes="nope, retired")]}
    assert caught.value.get_codes() == {"roles": ["invalid"]}
    assert not UserRole.all_objects.exists()
    assert not AuditLog.objects.exists()


def test_role_create_writes_one_audit_row_and_its_permissions() -> None:
    products = feature(PRODUCTS)

    created = role_create(
        code="clerk",
        name="Clerk",
        permissions=[{"feature": products, "can_retrieve": True, "scope": "all"}],
    )

    row = AuditLog.objects.get()
    assert (row.action, row.model, row.object_id, row.object_repr) == (
        AuditAction.CREATE,
        "core.role",
        str(created.pk),
        "clerk",
    )
    assert row.changes["code"] == [None, "clerk"]
    assert row.changes["name"] == [None, "Clerk"]
    assert row.changes["permissions"] == [None, [f"{PRODUCTS}: retrieve (all)"]]
    assert list(created.permissions.values_list("feature__code", "can_retrieve", "scope")) == [
        (PRODUCTS, True, "all")
    ]


def test_granting_and_removing_permissions_over_the_api_is_audited_with_the_set() -> None:
    """Issue 12: a PATCH of a role's permissions wrote no audit row (only its columns were
    diffed)."""
    from tests import api_cases as api

    feature(PRODUCTS)
    role = role_create(code="clerk", name="Clerk")
    admin = api.UserFactory(is_staff=True, is_superuser=True)
    url = api.api_url("rbac-role-detail", pk=role.pk)
    grant = {"permissions": [{"feature": PRODUCTS, "can_retrieve": True, "can_update": True}]}
    assert api.client_for(admin).patch(url, grant, format="json").status_code == 200
    granted = AuditLog.objects.filter(object_id=str(role.pk), action="update").get()
    assert granted.changes == {"permissions": [[], [f"{PRODUCTS}: retrieve,update (own)"]]}
    assert granted.actor == admin
    assert api.client_for(admin).patch(url, {"permissions": []}, format="json").status_code == 200
    removed = AuditLog.objects.filter(object_id=str(role.pk), action="update").latest("created_at")
    assert removed.changes == {"permissions": [[f"{PRODUCTS}: retrieve,update (own)"], []]}


def test_scope_own_on_a_feature_without_owners_is_refused_naming_it() -> None:
    """Issue 12: scope `own` on a feature whose views declare no owner_field turned every
    write of its holders into a 500, after the row was committed."""
    from tests import api_cases as api

    catalog = "catalog.products"  # its views have no owner_field
    role = role_create(code="clerk", name="Clerk")
    admin = api.UserFactory(is_staff=True, is_superuser=True)
    url = api.api_url("rbac-role-detail", pk=role.pk)
    own = {"permissions": [{"feature": "orders.orders"}, {"feature": catalog, "can_update": True}]}
    response = api.client_for(admin).patch(url, own, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["attr"], e["code"]) for e in errors] == [("permissions.1.scope", "invalid")]
    assert catalog in errors[0]["detail"]
    assert not role.permissions.exists()
    fixed = {"permissions": [{"feature": "orders.orders"}, {"feature": catalog, "scope": "all"}]}
    assert api.client_for(admin).patch(url, fixed, format="json").status_code == 200
    assert AuditLog.objects.filter(object_id=str(role.pk), action="update").count() == 1


def test_role_create_is_seen_by_holders_of_the_new_role(
    user: User, django_assert_num_queries: Any
) -> None:
    products = feature(PRODUCTS)
    assert warm(user, django_assert_num_queries) == {}

    role_create(code="clerk", name="Clerk", permissions=[{"feature": products, "can_create": True}])
    user_roles_set(user=user, role_codes=["clerk"])

    assert user_permissions(user=user) == {PRODUCTS: {"create": "own"}}


def test_bulk_soft_delete_of_a_users_roles_is_seen_on_the_next_call(
    user: User, django_assert_num_queries: Any
) -> None:
    held = role("clerk")
    grant(held, feature(PRODUCTS), "retrieve")
    UserRole.objects.create(user=user, role=held)
    assert warm(user, django_assert_num_queries) == {PRODUCTS: {"retrieve": "own"}}

    UserRole.objects.filter(user=user).delete()

    assert user_permissions(user=user) == {}


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_read_racing_an_uncommitted_role_change_does_not_cache_stale_permissions(
    user: User,
) -> None:
    held = role("clerk")
    grant(held, feature(PRODUCTS), "retrieve")
    seen_by_other_request: list[Any] = []

    def other_request() -> None:
        """Another request reads the permissions before the change is committed."""
        try:
            seen_by_other_request.append(user_permissions(user=user))
        finally:
            connection.close()

    with transaction.atomic():
        UserRole.objects.create(user=user, role=held)
        reader = threading.Thread(target=other_request)
        reader.start()
        reader.join()

    assert seen_by_other_request == [{}]
    assert user_permissions(user=user) == {PRODUCTS: {"retrieve": "own"}}


def test_a_feature_declared_again_keeps_its_grants(user: User, settings: Any) -> None:
    from apps.core.rbac.services import features_sync

    settings.ROOT_URLCONF = __name__
    features_sync()
    declared = Feature.objects.get(code=DECLARED)
    held = role("keeper")
    grant(held, declared, "retrieve")
    UserRole.objects.create(user=user, role=held)
    declared.soft_delete()
    assert user_permissions(user=user) == {}
    features_sync()
    assert Feature.objects.get(code=DECLARED).pk == declared.pk
    assert user_permissions(user=user) == {DECLARED: {"retrieve": "own"}}


def test_a_request_reads_the_permissions_once_and_in_one_round_trip(monkeypatch: Any) -> None:
    """Issue 13: an editor's list asked for the caller's permissions 3-4 times (permission
    check, scope, `is_editor` twice), each a read of the generation and then of the entry.
    Now: one get_many of both, once per request (the request memo)."""
    from django.core.cache import cache

    from apps.catalog.models import Product
    from tests import api_cases as api
    from tests.factories import UserFactory

    editor = UserFactory()
    api.grant(editor, "catalog.products")
    client = api.client_for(editor)
    url = api.api_url("catalog-product-list")
    assert client.get(url).status_code == 200  # warm
    reads: list[Any] = []
    original = cache.get_many

    def counted(keys: Any, *args: Any, **kwargs: Any) -> Any:
        if any(str(key).startswith("rbac:") for key in keys):
            reads.append(list(keys))
        return original(keys, *args, **kwargs)

    monkeypatch.setattr(cache, "get_many", counted)
    Product.objects.all().delete()  # a fresh answer (the response cache would skip the view)
    assert client.get(f"{url}?page=1").status_code == 200
    assert reads == [["rbac:generation", f"rbac:user-perms:{editor.pk}"]]


def test_a_role_change_inside_a_request_is_seen_by_the_rest_of_it(
    user: User, django_assert_num_queries: Any
) -> None:
    """The request memo forgets a user's permissions when their roles or a role change."""
    from apps.core.platform.memo import request_memo_close, request_memo_open

    held = role("clerk")
    grant(held, feature(PRODUCTS), "retrieve")
    request_memo_open()
    try:
        assert warm(user, django_assert_num_queries) == {}
        with django_assert_num_queries(0):
            assert user_permissions(user=user) == {}  # from the memo
        UserRole.objects.create(user=user, role=held)
        assert user_permissions(user=user) == {PRODUCTS: {"retrieve": "own"}}
        grant(held, feature(ORDERS), "create")
        assert user_permissions(user=user) == {
            PRODUCTS: {"retrieve": "own"},
            ORDERS: {"create": "own"},
        }
    finally:
        request_memo_close()
