"""RBAC, audit-log and trash endpoints through the generic endpoint tests, plus their rules."""

import itertools
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import User
from apps.core.api.audit import AuditLogViewSet
from apps.core.api.rbac import FeatureViewSet, RoleViewSet, UserRolesAPIView
from apps.core.api.trash import (
    TrashListAPIView,
    TrashModelsAPIView,
    TrashPurgeAPIView,
    TrashRestoreAPIView,
)
from apps.core.exceptions import PURGE_PROTECTED_MESSAGE
from apps.core.models import AuditLog, Feature, Role
from apps.core.rbac.services import role_create
from apps.core.records.selectors import TRASH_MODEL_REQUIRED_MESSAGE, trash_models
from apps.core.records.services import RESTORE_CONFLICT_MESSAGE
from tests import api_cases as api
from tests.core.factories import AuditLogFactory, FeatureFactory
from tests.envelope import assert_envelope, assert_error
from tests.factories import UserFactory
from tests.testapp.factories import NoteFactory, TagFactory
from tests.testapp.models import Tag

pytestmark = pytest.mark.django_db
_numbers = itertools.count()


def unique(prefix: str) -> str:
    """A fresh slug-like value."""
    return f"{prefix}-{next(_numbers)}"


class TestFeatureEndpoint(api.List, api.Retrieve):
    """The features roles can be granted (admin, read-only)."""

    url_name = "rbac-feature"
    view = FeatureViewSet

    def make(self, owner: Any) -> Feature:
        return FeatureFactory()


class TestRoleEndpoint(api.List, api.Retrieve, api.Create, api.Update, api.Delete):
    """Roles and their permissions (admin)."""

    url_name = "rbac-role"
    view = RoleViewSet
    invalid_payload = {"code": "not a slug!", "name": "Bad"}
    invalid_attr = "code"
    update_payload = {"name": "Renamed"}
    update_invalid_payload = {"code": "bad code!"}
    update_invalid_attr = "code"

    def make(self, owner: Any) -> Role:
        feature = FeatureFactory()
        return role_create(
            code=unique("role"),
            name="Role",
            permissions=[{"feature": feature, "can_retrieve": True, "scope": "all"}],
        )

    def create_payload(self) -> dict[str, Any]:
        feature = FeatureFactory()
        return {
            "code": unique("role"),
            "name": "New role",
            "permissions": [{"feature": feature.code, "can_update": True, "scope": "own"}],
        }

    def test_create_stores_the_permissions(self) -> None:
        payload = self.create_payload()
        client = api.client_for(self.permitted())
        body = assert_envelope(client.post(self.url, payload, format="json"), 201)
        assert body["data"]["permissions"] == [
            {
                "feature": payload["permissions"][0]["feature"],
                "can_create": False,
                "can_retrieve": False,
                "can_update": True,
                "can_delete": False,
                "scope": "own",
            }
        ]

    def test_unknown_feature_or_scope_is_400_with_a_dotted_attr(self) -> None:
        client = api.client_for(self.permitted())
        payload = {"code": unique("r"), "name": "R", "permissions": [{"feature": "no.such"}]}
        assert_error(
            client.post(self.url, payload, format="json"),
            400,
            "does_not_exist",
            "permissions.0.feature",
        )
        feature = FeatureFactory()
        payload["permissions"] = [{"feature": feature.code, "scope": "everyone"}]
        assert_error(
            client.post(self.url, payload, format="json"),
            400,
            "invalid_choice",
            "permissions.0.scope",
        )

    def test_duplicate_live_code_is_rejected_but_a_deleted_one_is_free(self) -> None:
        client = api.client_for(self.permitted())
        role = self.make(None)
        response = client.post(self.url, {"code": role.code, "name": "Dup"}, format="json")
        assert_error(response, 400, "unique", "code")  # the validator; 409 only if it races
        role.soft_delete()
        assert_envelope(
            client.post(self.url, {"code": role.code, "name": "Again"}, format="json"), 201
        )


class TestUserRolesEndpoint(api.Action):
    """Read or replace a user's roles (admin)."""

    url_name = "rbac-user-roles"
    view = UserRolesAPIView
    method = "put"
    invalid_payload = {"roles": "admin"}
    invalid_attr = "roles"

    def prepare(self, user: User | None) -> str:
        self.target = UserFactory()
        Role.objects.get_or_create(code="manager", defaults={"name": "Manager"})
        return self.url_for(user_id=self.target.pk)

    def call_payload(self) -> dict[str, Any]:
        return {"roles": ["manager"]}

    def test_put_replaces_the_roles_and_get_reads_them(self) -> None:
        client = api.client_for(self.permitted())
        url = self.prepare(None)
        Role.objects.get_or_create(code="customer", defaults={"name": "Customer"})
        assert_envelope(client.put(url, {"roles": ["manager", "customer"]}, format="json"), 200)
        assert_envelope(client.put(url, {"roles": ["customer"]}, format="json"), 200)
        body = assert_envelope(client.get(url), 200)
        assert body["data"] == {"roles": ["customer"]}
        me = api.client_for(self.target).get(api.api_url("accounts:me"))
        assert assert_envelope(me, 200)["data"]["roles"] == ["customer"]

    def test_unknown_role_is_400_naming_it(self) -> None:
        url = self.prepare(None)
        response = api.client_for(self.permitted()).put(url, {"roles": ["ghost"]}, format="json")
        body = assert_error(response, 400, "invalid", "roles")
        assert "ghost" in body["errors"][0]["detail"]

    def test_unknown_user_is_404(self) -> None:
        url = self.url_for(user_id=api.UNKNOWN_ID)
        assert_error(api.client_for(self.permitted()).get(url), 404, "not_found")


class TestAuditLogEndpoint(api.List, api.Retrieve):
    """The audit log (admin, read-only, filterable, cursor-paged)."""

    url_name = "audit-log"
    view = AuditLogViewSet

    def make(self, owner: Any) -> AuditLog:
        return AuditLogFactory()

    def test_filters_by_model_object_action_actor_and_dates(self) -> None:
        client = api.client_for(self.permitted())
        target = self.make(None)
        other = AuditLogFactory(target=FeatureFactory())
        query = f"?model=accounts.user&object_id={target.object_id}&action=create"
        body = assert_envelope(client.get(self.url + query), 200)
        assert [row["id"] for row in body["data"]] == [str(target.pk)]
        body = assert_envelope(client.get(self.url + "?model=core.feature"), 200)
        assert str(other.pk) in [row["id"] for row in body["data"]]
        after = target.created_at.isoformat().replace("+00:00", "Z")
        body = assert_envelope(client.get(self.url, {"created_after": after}), 200)
        assert str(target.pk) in [row["id"] for row in body["data"]]
        body = assert_envelope(
            client.get(self.url, {"created_before": "2000-01-01T00:00:00Z"}), 200
        )
        assert body["data"] == []

    def test_bad_filter_values_are_400(self) -> None:
        client = api.client_for(self.permitted())
        assert_error(client.get(self.url + "?action=explode"), 400, "invalid_choice", "action")
        assert_error(
            client.get(self.url + "?created_after=yesterday"), 400, "invalid", "created_after"
        )
        assert_error(client.get(self.url + "?actor=not-a-uuid"), 400, "invalid", "actor")

    def test_pages_are_cursor_pages(self) -> None:
        client = api.client_for(self.permitted())
        for _ in range(3):
            self.make(None)
        body = assert_envelope(client.get(self.url + "?page_size=2"), 200)
        assert set(body["meta"]["pagination"]) == {"next", "previous"}
        assert "cursor=" in body["meta"]["pagination"]["next"]

    def test_the_api_is_read_only(self) -> None:
        client = api.client_for(self.permitted())
        row = self.make(None)
        assert_error(client.post(self.url, {}, format="json"), 405, "method_not_allowed")
        assert_error(client.delete(self.detail_url(row)), 405, "method_not_allowed")


class TestTrashListEndpoint(api.Action):
    """One model's soft-deleted rows (staff, or delete with scope `all` on its feature)."""

    url_name = "trash-list"
    view = TrashListAPIView
    method = "get"

    def prepare(self, user: User | None) -> str:
        TagFactory().soft_delete()
        return f"{self.url}?model=testapp.tag"

    def call(self, user: User | None, url: str, payload: Any) -> Any:
        return api.client_for(user).get(url)

    def test_model_is_required_and_must_have_a_trash(self) -> None:
        client = api.client_for(self.permitted())
        body = assert_error(client.get(self.url), 400, "required", "model")
        assert body["errors"][0]["detail"] == TRASH_MODEL_REQUIRED_MESSAGE
        assert_error(client.get(self.url + "?model=core.auditlog"), 400, "invalid", "model")
        assert_error(client.get(self.url + "?model=nope.nothing"), 400, "invalid", "model")

    def test_lists_only_deleted_rows_with_who_deleted_them(self) -> None:
        admin = self.permitted()
        live, gone = TagFactory(), TagFactory()
        gone.soft_delete(by=admin)
        body = assert_envelope(api.client_for(admin).get(self.url + "?model=testapp.tag"), 200)
        ids = [row["id"] for row in body["data"]]
        assert str(gone.pk) in ids
        assert str(live.pk) not in ids
        row = next(r for r in body["data"] if r["id"] == str(gone.pk))
        assert row["deleted_by"] == str(admin.pk)
        assert row["deleted_by_repr"] == admin.email
        assert row["model"] == "testapp.tag"

    def test_query_count_does_not_grow_with_rows(self, request: pytest.FixtureRequest) -> None:
        admin = self.permitted()
        client = api.client_for(admin)
        TagFactory().soft_delete(by=admin)
        client.get(self.url + "?model=testapp.tag")
        with CaptureQueriesContext(connection) as one:
            client.get(self.url + "?model=testapp.tag")
        for _ in range(20):
            TagFactory().soft_delete(by=UserFactory())
        with CaptureQueriesContext(connection) as many:
            body = assert_envelope(client.get(self.url + "?model=testapp.tag"), 200)
        assert len(body["data"]) == 20
        assert len(one) == len(many)
        api.assert_query_baseline(request, "list", len(many))


class TestTrashRestoreEndpoint(api.Action):
    """Restore a soft-deleted row (staff, or delete with scope `all` on its feature)."""

    url_name = "trash-restore"
    view = TrashRestoreAPIView

    def prepare(self, user: User | None) -> str:
        self.tag = TagFactory()
        self.tag.soft_delete()
        return self.url_for(model="testapp.tag", pk=self.tag.pk)

    def test_restore_conflicts_when_a_live_row_took_the_unique_slot(self) -> None:
        url = self.prepare(None)
        TagFactory(name=self.tag.name)
        body = assert_error(api.client_for(self.permitted()).post(url), 409, "conflict")
        assert body["errors"][0]["detail"] == RESTORE_CONFLICT_MESSAGE.format(model="tag")
        assert Tag.all_objects.get(pk=self.tag.pk).is_deleted

    def test_restoring_a_live_or_unknown_row_is_404(self) -> None:
        client = api.client_for(self.permitted())
        live = TagFactory()
        for model, pk in (
            ("testapp.tag", live.pk),
            ("testapp.tag", "garbage"),
            ("no.model", live.pk),
        ):
            url = self.url_for(model=model, pk=pk)
            assert_error(client.post(url), 404, "not_found")


class TestTrashPurgeEndpoint(api.Action):
    """Delete a trashed row for good (superusers only)."""

    url_name = "trash-purge"
    view = TrashPurgeAPIView
    method = "delete"

    def prepare(self, user: User | None) -> str:
        self.tag = TagFactory()
        self.tag.soft_delete()
        return self.url_for(model="testapp.tag", pk=self.tag.pk)

    def test_purge_removes_the_row_and_records_it(self) -> None:
        url = self.prepare(None)
        assert_envelope(api.client_for(self.permitted()).delete(url), 200)
        assert not Tag.all_objects.filter(pk=self.tag.pk).exists()
        assert AuditLog.objects.filter(object_id=str(self.tag.pk), action="purge").count() == 1

    def test_staff_who_are_not_superusers_cannot_purge(self) -> None:
        url = self.prepare(None)
        staff = api.client_for(UserFactory(is_staff=True))
        assert_error(staff.delete(url), 403, "permission_denied")
        assert Tag.all_objects.filter(pk=self.tag.pk).exists()

    def test_purging_a_protected_row_is_409_and_keeps_it(self) -> None:
        url = self.prepare(None)
        NoteFactory(pinned_tag=self.tag)
        body = assert_error(api.client_for(self.permitted()).delete(url), 409, "conflict")
        assert body["errors"][0]["detail"] == PURGE_PROTECTED_MESSAGE
        assert Tag.all_objects.filter(pk=self.tag.pk).exists()
        assert not AuditLog.objects.filter(object_id=str(self.tag.pk), action="purge").exists()


def test_a_bulk_role_create_is_all_or_nothing_and_errors_carry_the_index() -> None:
    feature = Feature.objects.create(code=unique("dup.f"), name="F")
    client = api.client_for(UserFactory(is_staff=True))
    payload = [
        {"code": unique("first"), "name": "First"},
        {
            "code": unique("second"),
            "name": "Second",
            "permissions": [{"feature": feature.code}, {"feature": feature.code}],
        },
    ]
    roles = api.api_url("rbac-role-list")
    body = assert_envelope(client.post(roles, payload, format="json"), 400)
    assert "1.permissions.1.feature" in [error["attr"] for error in body["errors"]]
    assert not Role.objects.filter(code=payload[0]["code"]).exists()
    assert_error(client.patch(roles, [{"id": "x"}], format="json"), 405, "method_not_allowed")


def test_restore_answers_with_the_object_as_its_endpoint_shows_it() -> None:
    """Issue 14: the answer was the trash item (model, id, repr); a client had to read the
    object again. A product comes back as the product detail, `final_price` included."""
    from tests.catalog.factories import ProductFactory

    product = ProductFactory()
    product.soft_delete()
    admin = api.client_for(UserFactory(is_staff=True, is_superuser=True))
    url = api.api_url("trash-restore", model="catalog.product", pk=product.pk)
    restored = assert_envelope(admin.post(url), 200)["data"]
    detail = assert_envelope(admin.get(api.api_url("catalog-product-detail", pk=product.pk)), 200)
    assert restored == detail["data"]
    assert restored["final_price"] == "10.00"


class TestTrashModelsEndpoint(api.Action):
    """The models that have a trash, with their sizes (issue 14: for the admin screen)."""

    url_name = "trash-models"
    view = TrashModelsAPIView
    method = "get"

    def call(self, user: User | None, url: str, payload: Any) -> Any:
        return api.client_for(user).get(url)

    def test_staff_see_every_model_with_a_trash_and_its_count(self) -> None:
        TagFactory().soft_delete()
        TagFactory().soft_delete()
        TagFactory()
        body = assert_envelope(api.client_for(self.permitted()).get(self.url), 200)
        items = {item["model"]: item for item in body["data"]}
        assert set(items) == set(trash_models())
        assert "core.auditlog" not in items
        assert items["testapp.tag"] == {
            "model": "testapp.tag",
            "app_label": "testapp",
            "name": "tag",
            "verbose_name": "tag",
            "verbose_name_plural": "tags",
            "count": 2,
        }
        assert items["catalog.product"]["count"] == 0
        assert [item["model"] for item in body["data"]] == sorted(items)
        assert body["meta"]["pagination"] is None

    def test_others_see_the_models_they_may_delete_over_all_rows_only(self) -> None:
        manager = UserFactory()
        api.grant(manager, "catalog.products", ("retrieve", "delete"), "all")
        api.grant(manager, "orders.orders", ("retrieve", "delete"), "own")
        body = assert_envelope(api.client_for(manager).get(self.url), 200)
        assert [item["model"] for item in body["data"]] == ["catalog.product"]
        for label, status in (("catalog.product", 200), ("orders.order", 403)):
            listed = api.client_for(manager).get(api.api_url("trash-list") + f"?model={label}")
            assert listed.status_code == status  # the same rule as the trash list

    def test_the_counts_take_one_query_whatever_the_number_of_models(self) -> None:
        client = api.client_for(self.permitted())
        client.get(self.url)
        with CaptureQueriesContext(connection) as queries:
            assert_envelope(client.get(self.url), 200)
        counting = [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
        assert len(counting) == 1, [q["sql"] for q in counting]
