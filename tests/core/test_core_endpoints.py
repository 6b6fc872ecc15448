"""RBAC, audit-log and trash endpoints through the generic endpoint tests, plus their rules."""

import itertools
from typing import Any

import pytest

from apps.accounts.models import User
from apps.core.api.audit import AuditLogViewSet
from apps.core.api.rbac import FeatureViewSet, RoleViewSet, UserRolesAPIView
from apps.core.api.trash import TrashListAPIView, TrashPurgeAPIView, TrashRestoreAPIView
from apps.core.audit.writer import audit_create
from apps.core.exceptions import PROTECTED_MESSAGE
from apps.core.models import AuditLog, Feature, Role
from apps.core.rbac.services import role_create
from apps.core.records.selectors import TRASH_MODEL_REQUIRED_MESSAGE
from apps.core.records.services import RESTORE_CONFLICT_MESSAGE
from tests import api_cases as api
from tests.envelope import assert_envelope, assert_error
from tests.factories import UserFactory
from tests.testapp.models import Note, Tag

pytestmark = pytest.mark.django_db
_numbers = itertools.count()


def unique(prefix: str) -> str:
    """A fresh slug-like value."""
    return f"{prefix}-{next(_numbers)}"


class TestFeatureEndpoint(api.List, api.Retrieve):
    url = "/api/v1/rbac/features/"
    view = FeatureViewSet
    model = Feature
    admin_only = True

    def make(self, owner: Any) -> Feature:
        return Feature.objects.create(code=unique("mod.thing"), name="Thing")


class TestRoleEndpoint(api.List, api.Retrieve, api.Create, api.Update, api.Delete):
    url = "/api/v1/rbac/roles/"
    view = RoleViewSet
    model = Role
    admin_only = True
    invalid_payload = {"code": "not a slug!", "name": "Bad"}
    invalid_attr = "code"
    update_payload = {"name": "Renamed"}
    update_invalid_payload = {"code": "bad code!"}
    update_invalid_attr = "code"

    def make(self, owner: Any) -> Role:
        feature = Feature.objects.create(code=unique("mod.x"), name="X")
        return role_create(
            code=unique("role"),
            name="Role",
            permissions=[{"feature": feature, "can_retrieve": True, "scope": "all"}],
        )

    def create_payload(self) -> dict[str, Any]:
        feature = Feature.objects.create(code=unique("mod.y"), name="Y")
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
        feature = Feature.objects.create(code=unique("mod.z"), name="Z")
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
        assert response.status_code in (400, 409)
        body = assert_envelope(response, response.status_code)
        assert body["errors"][0]["attr"] == "code"
        role.soft_delete()
        assert_envelope(
            client.post(self.url, {"code": role.code, "name": "Again"}, format="json"), 201
        )


class TestUserRolesEndpoint(api.Action):
    url = "/api/v1/rbac/users/{id}/roles/"
    view = UserRolesAPIView
    method = "put"
    admin_only = True
    invalid_payload = {"roles": "admin"}
    invalid_attr = "roles"

    def prepare(self, user: User | None) -> str:
        self.target = UserFactory()
        Role.objects.get_or_create(code="manager", defaults={"name": "Manager"})
        return self.url.format(id=self.target.pk)

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
        me = api.client_for(self.target).get("/api/v1/auth/me/")
        assert assert_envelope(me, 200)["data"]["roles"] == ["customer"]

    def test_unknown_role_is_400_naming_it(self) -> None:
        url = self.prepare(None)
        response = api.client_for(self.permitted()).put(url, {"roles": ["ghost"]}, format="json")
        body = assert_error(response, 400, "invalid", "roles")
        assert "ghost" in body["errors"][0]["detail"]

    def test_unknown_user_is_404(self) -> None:
        url = self.url.format(id="00000000-0000-0000-0000-000000000000")
        assert_error(api.client_for(self.permitted()).get(url), 404, "not_found")


class TestAuditLogEndpoint(api.List, api.Retrieve):
    url = "/api/v1/audit-logs/"
    view = AuditLogViewSet
    model = AuditLog
    admin_only = True

    def make(self, owner: Any) -> AuditLog:
        return audit_create(UserFactory())

    def test_filters_by_model_object_action_actor_and_dates(self) -> None:
        client = api.client_for(self.permitted())
        target = self.make(None)
        other = audit_create(Feature.objects.create(code=unique("f"), name="F"))
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
        assert_error(client.delete(f"{self.url}{row.pk}/"), 405, "method_not_allowed")


class TestTrashListEndpoint(api.Action):
    url = "/api/v1/trash/"
    view = TrashListAPIView
    method = "get"
    admin_only = True

    def prepare(self, user: User | None) -> str:
        Tag.objects.create(name=unique("gone")).soft_delete()
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
        live, gone = Tag.objects.create(name=unique("t")), Tag.objects.create(name=unique("t"))
        gone.soft_delete(by=admin)
        body = assert_envelope(api.client_for(admin).get(self.url + "?model=testapp.tag"), 200)
        ids = [row["id"] for row in body["data"]]
        assert str(gone.pk) in ids
        assert str(live.pk) not in ids
        row = next(r for r in body["data"] if r["id"] == str(gone.pk))
        assert row["deleted_by"] == str(admin.pk)
        assert row["deleted_by_repr"] == admin.email
        assert row["model"] == "testapp.tag"

    def test_query_count_does_not_grow_with_rows(self, django_assert_max_num_queries: Any) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        admin = self.permitted()
        client = api.client_for(admin)
        Tag.objects.create(name=unique("t")).soft_delete(by=admin)
        client.get(self.url + "?model=testapp.tag")
        with CaptureQueriesContext(connection) as one:
            client.get(self.url + "?model=testapp.tag")
        for _ in range(20):
            Tag.objects.create(name=unique("t")).soft_delete(by=UserFactory())
        with CaptureQueriesContext(connection) as many:
            client.get(self.url + "?model=testapp.tag")
        assert len(one) == len(many)


class TestTrashRestoreEndpoint(api.Action):
    url = "/api/v1/trash/{model}/{id}/restore/"
    view = TrashRestoreAPIView
    admin_only = True

    def prepare(self, user: User | None) -> str:
        self.tag = Tag.objects.create(name=unique("restore"))
        self.tag.soft_delete()
        return self.url.format(model="testapp.tag", id=self.tag.pk)

    def test_restore_conflicts_when_a_live_row_took_the_unique_slot(self) -> None:
        url = self.prepare(None)
        Tag.objects.create(name=self.tag.name)
        body = assert_error(api.client_for(self.permitted()).post(url), 409, "conflict")
        assert body["errors"][0]["detail"] == RESTORE_CONFLICT_MESSAGE.format(model="tag")
        assert Tag.all_objects.get(pk=self.tag.pk).is_deleted

    def test_restoring_a_live_or_unknown_row_is_404(self) -> None:
        client = api.client_for(self.permitted())
        live = Tag.objects.create(name=unique("live"))
        assert_error(
            client.post(self.url.format(model="testapp.tag", id=live.pk)), 404, "not_found"
        )
        assert_error(
            client.post(self.url.format(model="testapp.tag", id="garbage")), 404, "not_found"
        )
        assert_error(client.post(self.url.format(model="no.model", id=live.pk)), 404, "not_found")


class TestTrashPurgeEndpoint(api.Action):
    url = "/api/v1/trash/{model}/{id}/"
    view = TrashPurgeAPIView
    method = "delete"
    admin_only = True

    def permitted(self, flags: Any = None, scope: str = "all") -> User:
        return UserFactory(is_staff=True, is_superuser=True)

    def prepare(self, user: User | None) -> str:
        self.tag = Tag.objects.create(name=unique("purge"))
        self.tag.soft_delete()
        return self.url.format(model="testapp.tag", id=self.tag.pk)

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
        Note.objects.create(owner=UserFactory(), title=unique("n"), pinned_tag=self.tag)
        body = assert_error(api.client_for(self.permitted()).delete(url), 409, "conflict")
        assert body["errors"][0]["detail"] == PROTECTED_MESSAGE
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
    body = assert_envelope(client.post("/api/v1/rbac/roles/", payload, format="json"), 400)
    assert "1.permissions.1.feature" in [error["attr"] for error in body["errors"]]
    assert not Role.objects.filter(code=payload[0]["code"]).exists()
    assert_error(
        client.patch("/api/v1/rbac/roles/", [{"id": "x"}], format="json"), 405, "method_not_allowed"
    )
