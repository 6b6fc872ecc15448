"""Generic endpoint tests: a test class declares an endpoint and inherits its tests.

The idea of NetBox's APIViewTestCases. Compose the mixins an endpoint needs:

    class TestNoteEndpoint(api.List, api.Retrieve, api.Create, api.Update, api.Delete):
        url = "/api/v1/notes/"
        model = Note
        feature = "notes.notes"          # or admin_only = True
        owner_field = "owner"            # enables the scope `own` tests
        def make(self, owner): ...        # one saved object
        def create_payload(self): ...
        update_payload = {...}
        invalid_payload, invalid_attr = {...}, "title"

Every mixin checks the envelope, 401 for anonymous callers, 403 without permission, and the
audit rows; lists also check a constant query count; deletes the trash round trip.
`ENDPOINT_TEST_CLASSES` records which views are covered (read by tests/test_conventions.py).
"""

import itertools
from typing import Any, ClassVar

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.core.audit.writer import model_label
from apps.core.models import AuditLog, Feature, PermissionScope, Role, RolePermission, UserRole
from tests.conftest import bearer
from tests.envelope import assert_envelope, assert_error
from tests.factories import UserFactory

ENDPOINT_TEST_CLASSES: list[type] = []
_role_numbers = itertools.count()
ALL_FLAGS = ("create", "retrieve", "update", "delete")


def grant(user: User, feature: str, flags: tuple[str, ...] = ALL_FLAGS, scope: str = "all") -> None:
    """Give `user` a fresh role with `flags` on `feature` (created if missing)."""
    feature_row, _ = Feature.objects.get_or_create(code=feature, defaults={"name": feature})
    role = Role.objects.create(code=f"test-role-{next(_role_numbers)}", name="Test role")
    RolePermission.objects.create(
        role=role,
        feature=feature_row,
        scope=PermissionScope(scope),
        **{f"can_{flag}": True for flag in flags},
    )
    UserRole.objects.create(user=user, role=role)


def client_for(user: User | None) -> APIClient:
    """A client authenticated as `user` with a real JWT (anonymous for None)."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=bearer(user))
    return client


def audit_rows(instance: Any, action: str) -> int:
    """How many audit rows record `action` on `instance`."""
    return AuditLog.objects.filter(
        model=model_label(instance), object_id=str(instance.pk), action=action
    ).count()


@pytest.mark.django_db
class Endpoint:
    """What every endpoint test class declares, and the callers it tests with."""

    url: ClassVar[str]
    model: ClassVar[Any] = None
    feature: ClassVar[str | None] = None
    admin_only: ClassVar[bool] = False
    owner_field: ClassVar[str | None] = None
    view: ClassVar[Any] = None  # the view class covered (for the conventions test)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Record concrete test classes (those named Test*) for the conventions test."""
        super().__init_subclass__(**kwargs)
        if cls.__name__.startswith("Test"):
            ENDPOINT_TEST_CLASSES.append(cls)

    # --- declarations an endpoint provides ---------------------------------------------

    def make(self, owner: User) -> Any:
        """One saved object owned by `owner` (override)."""
        raise NotImplementedError(f"{type(self).__name__} must define make(owner)")

    def detail_url(self, instance: Any) -> str:
        """The object's URL (collection URL + id by default)."""
        return f"{self.url}{instance.pk}/"

    # --- callers ----------------------------------------------------------------------

    def permitted(self, flags: tuple[str, ...] = ALL_FLAGS, scope: str = "all") -> User:
        """A user allowed to do `flags` (staff for admin endpoints)."""
        if self.admin_only:
            return UserFactory(is_staff=True)
        user = UserFactory()
        if self.feature:
            grant(user, self.feature, flags, scope)
        return user

    def unpermitted(self) -> User:
        """An authenticated user with no permission on this endpoint."""
        return UserFactory()

    @property
    def checks_permission(self) -> bool:
        """False for endpoints any signed-in user may use."""
        return self.admin_only or self.feature is not None


class List(Endpoint):
    """GET on the collection."""

    def test_list_is_an_enveloped_page(self) -> None:
        user = self.permitted()
        self.make(user)
        body = assert_envelope(client_for(user).get(self.url), 200)
        assert isinstance(body["data"], list)
        assert body["data"]
        assert body["meta"]["pagination"] is not None

    def test_list_anonymous_is_401(self) -> None:
        assert_error(client_for(None).get(self.url), 401, "not_authenticated")

    def test_list_without_permission_is_403(self) -> None:
        if not self.checks_permission:
            pytest.skip("any signed-in user may list")
        assert_error(client_for(self.unpermitted()).get(self.url), 403, "permission_denied")

    def test_list_query_count_does_not_grow_with_rows(self, monkeypatch: Any) -> None:
        if self.view is not None:  # measure the database path, not the response cache
            monkeypatch.setattr(self.view, "cache_responses", False)
        user = self.permitted()
        client = client_for(user)
        self.make(user)
        client.get(self.url)  # warm caches (permissions)
        with CaptureQueriesContext(connection) as one:
            assert_envelope(client.get(self.url), 200)
        for _ in range(24):
            self.make(user)
        with CaptureQueriesContext(connection) as many:
            body = assert_envelope(client.get(self.url), 200)
        assert len(body["data"]) >= 20
        assert len(many) == len(one), [q["sql"] for q in many.captured_queries]

    def test_list_with_scope_own_shows_only_own_rows(self) -> None:
        if not self.owner_field or self.admin_only:
            pytest.skip("no owner scope on this endpoint")
        mine_user = self.permitted(scope="own")
        mine = self.make(mine_user)
        self.make(UserFactory())
        body = assert_envelope(client_for(mine_user).get(self.url), 200)
        assert [row["id"] for row in body["data"]] == [str(mine.pk)]


class Retrieve(Endpoint):
    """GET on one object."""

    def test_retrieve_is_enveloped(self) -> None:
        user = self.permitted()
        instance = self.make(user)
        body = assert_envelope(client_for(user).get(self.detail_url(instance)), 200)
        assert body["data"]["id"] == str(instance.pk)

    def test_retrieve_anonymous_is_401(self) -> None:
        instance = self.make(UserFactory())
        assert_error(client_for(None).get(self.detail_url(instance)), 401, "not_authenticated")

    def test_retrieve_without_permission_is_403(self) -> None:
        if not self.checks_permission:
            pytest.skip("any signed-in user may read")
        instance = self.make(UserFactory())
        response = client_for(self.unpermitted()).get(self.detail_url(instance))
        assert_error(response, 403, "permission_denied")

    def test_retrieve_someone_elses_object_with_scope_own_is_404(self) -> None:
        if not self.owner_field or self.admin_only:
            pytest.skip("no owner scope on this endpoint")
        theirs = self.make(UserFactory())
        response = client_for(self.permitted(scope="own")).get(self.detail_url(theirs))
        body = assert_error(response, 404, "not_found")
        assert str(theirs.pk) not in str(body)

    def test_retrieve_unknown_id_is_404(self) -> None:
        user = self.permitted()
        instance = self.make(user)
        url = self.detail_url(instance).replace(
            str(instance.pk), "00000000-0000-0000-0000-000000000000"
        )
        assert_error(client_for(user).get(url), 404, "not_found")


class Create(Endpoint):
    """POST on the collection."""

    invalid_payload: ClassVar[dict[str, Any]] = {}
    invalid_attr: ClassVar[str | None] = None

    def create_payload(self) -> dict[str, Any]:
        """A valid body for one new object (override)."""
        raise NotImplementedError(f"{type(self).__name__} must define create_payload()")

    def test_create_is_201_with_the_object_and_an_audit_row(self) -> None:
        user = self.permitted()
        body = assert_envelope(client_for(user).post(self.url, self.create_payload()), 201)
        instance = self.model.objects.get(pk=body["data"]["id"])
        assert audit_rows(instance, "create") == 1
        assert AuditLog.objects.get(object_id=str(instance.pk)).actor == user

    def test_create_invalid_payload_is_400_naming_the_field(self) -> None:
        before = self.model.all_objects.count()
        response = client_for(self.permitted()).post(self.url, self.invalid_payload)
        body = assert_envelope(response, 400)
        assert self.invalid_attr in [error["attr"] for error in body["errors"]]
        assert self.model.all_objects.count() == before

    def test_create_empty_body_is_400(self) -> None:
        response = client_for(self.permitted()).post(self.url, {}, format="json")
        assert_envelope(response, 400)

    def test_create_anonymous_is_401(self) -> None:
        assert_error(
            client_for(None).post(self.url, self.create_payload()), 401, "not_authenticated"
        )

    def test_create_without_permission_is_403(self) -> None:
        if not self.checks_permission:
            pytest.skip("any signed-in user may create")
        user = self.permitted(flags=("retrieve",)) if self.feature else self.unpermitted()
        response = client_for(user).post(self.url, self.create_payload())
        assert_error(response, 403, "permission_denied")


class BulkCreate(Endpoint):
    """POST of a JSON array on the collection: all or nothing, constant queries."""

    def bulk_payload(self, count: int) -> list[dict[str, Any]]:
        """`count` valid, distinct items (override)."""
        raise NotImplementedError(f"{type(self).__name__} must define bulk_payload(count)")

    bulk_invalid_item: ClassVar[dict[str, Any]] = {}
    bulk_invalid_attr: ClassVar[str] = ""

    def test_bulk_create_writes_every_row_and_audit_row(self) -> None:
        client = client_for(self.permitted())
        body = assert_envelope(client.post(self.url, self.bulk_payload(10), format="json"), 201)
        assert len(body["data"]) == 10
        ids = [row["id"] for row in body["data"]]
        assert self.model.objects.filter(pk__in=ids).count() == 10
        assert AuditLog.objects.filter(action="create", object_id__in=ids).count() == 10

    def test_bulk_create_query_count_does_not_grow_with_items(self) -> None:
        client = client_for(self.permitted())
        client.post(self.url, self.bulk_payload(1), format="json")  # warm caches
        counts = []
        for size in (10, 500):
            payload = self.bulk_payload(size)
            with CaptureQueriesContext(connection) as queries:
                assert_envelope(client.post(self.url, payload, format="json"), 201)
            counts.append(len(queries))
        assert counts[0] == counts[1], counts

    def test_bulk_create_with_one_bad_item_creates_nothing_and_names_its_index(self) -> None:
        payload = self.bulk_payload(5)
        payload[3] = {**payload[3], **self.bulk_invalid_item}
        before = self.model.all_objects.count()
        response = client_for(self.permitted()).post(self.url, payload, format="json")
        body = assert_envelope(response, 400)
        assert f"3.{self.bulk_invalid_attr}" in [error["attr"] for error in body["errors"]]
        assert self.model.all_objects.count() == before

    def test_bulk_create_empty_or_oversized_array_is_400(self, settings: Any) -> None:
        client = client_for(self.permitted())
        assert_error(client.post(self.url, [], format="json"), 400, "empty")
        settings.BULK_MAX_ITEMS = 3
        assert_error(client.post(self.url, self.bulk_payload(4), format="json"), 400, "max_length")


class Update(Endpoint):
    """PATCH on one object."""

    update_payload: ClassVar[dict[str, Any]] = {}
    update_invalid_payload: ClassVar[dict[str, Any]] = {}
    update_invalid_attr: ClassVar[str | None] = None
    versioned: ClassVar[bool] = False

    def _payload(self, instance: Any, payload: dict[str, Any]) -> dict[str, Any]:
        """The payload, with the current version for versioned models."""
        return {**payload, "version": instance.version} if self.versioned else dict(payload)

    def test_update_changes_the_object_and_writes_an_audit_row(self) -> None:
        user = self.permitted()
        instance = self.make(user)
        response = client_for(user).patch(
            self.detail_url(instance), self._payload(instance, self.update_payload), format="json"
        )
        body = assert_envelope(response, 200)
        for key, value in self.update_payload.items():
            assert body["data"][key] == value
        assert audit_rows(instance, "update") == 1

    def test_update_invalid_payload_is_400_naming_the_field(self) -> None:
        user = self.permitted()
        instance = self.make(user)
        payload = self._payload(instance, self.update_invalid_payload)
        body = assert_envelope(
            client_for(user).patch(self.detail_url(instance), payload, format="json"), 400
        )
        assert self.update_invalid_attr in [error["attr"] for error in body["errors"]]
        assert audit_rows(instance, "update") == 0

    def test_update_anonymous_is_401(self) -> None:
        instance = self.make(UserFactory())
        response = client_for(None).patch(
            self.detail_url(instance), self.update_payload, format="json"
        )
        assert_error(response, 401, "not_authenticated")

    def test_update_without_permission_is_403(self) -> None:
        if not self.checks_permission:
            pytest.skip("any signed-in user may update")
        instance = self.make(UserFactory())
        user = self.permitted(flags=("retrieve",)) if self.feature else self.unpermitted()
        response = client_for(user).patch(
            self.detail_url(instance), self.update_payload, format="json"
        )
        assert_error(response, 403, "permission_denied")

    def test_update_of_someone_elses_object_with_scope_own_is_404(self) -> None:
        if not self.owner_field or self.admin_only:
            pytest.skip("no owner scope on this endpoint")
        theirs = self.make(UserFactory())
        user = self.permitted(scope="own")
        payload = self._payload(theirs, self.update_payload)
        assert_error(
            client_for(user).patch(self.detail_url(theirs), payload, format="json"),
            404,
            "not_found",
        )
        assert audit_rows(theirs, "update") == 0

    def test_update_with_a_stale_or_missing_version_is_409(self) -> None:
        if not self.versioned:
            pytest.skip("not a versioned model")
        user = self.permitted()
        instance = self.make(user)
        url = self.detail_url(instance)
        client = client_for(user)
        assert_envelope(
            client.patch(url, self._payload(instance, self.update_payload), format="json"), 200
        )
        stale = {**self.update_payload, "version": instance.version}
        body = assert_error(client.patch(url, stale, format="json"), 409, "version_conflict")
        assert (
            body["message"]
            == "This record was modified by another user. Please refresh and try again."
        )
        assert_error(
            client.patch(url, dict(self.update_payload), format="json"), 409, "version_conflict"
        )


class Delete(Endpoint):
    """DELETE on one object: soft delete, audited, in the trash, restorable."""

    def test_delete_soft_deletes_and_the_trash_round_trip_restores_it(self) -> None:
        user = self.permitted()
        instance = self.make(user)
        client = client_for(user)
        body = assert_envelope(client.delete(self.detail_url(instance)), 200)
        assert body["data"] is None
        stored = self.model.all_objects.get(pk=instance.pk)
        assert stored.is_deleted
        assert stored.deleted_by == user
        assert_error(client.get(self.detail_url(instance)), 404, "not_found")
        assert audit_rows(instance, "delete") == 1

        admin = client_for(UserFactory(is_staff=True))
        label = model_label(instance)
        trash = assert_envelope(admin.get(f"/api/v1/trash/?model={label}"), 200)
        assert str(instance.pk) in [row["id"] for row in trash["data"]]
        assert_envelope(admin.post(f"/api/v1/trash/{label}/{instance.pk}/restore/"), 200)
        assert not self.model.all_objects.get(pk=instance.pk).is_deleted
        assert audit_rows(instance, "restore") == 1
        assert_envelope(client.get(self.detail_url(instance)), 200)

    def test_delete_of_someone_elses_object_with_scope_own_is_404(self) -> None:
        if not self.owner_field or self.admin_only:
            pytest.skip("no owner scope on this endpoint")
        theirs = self.make(UserFactory())
        assert_error(
            client_for(self.permitted(scope="own")).delete(self.detail_url(theirs)),
            404,
            "not_found",
        )
        assert not self.model.all_objects.get(pk=theirs.pk).is_deleted

    def test_delete_anonymous_is_401(self) -> None:
        instance = self.make(UserFactory())
        assert_error(client_for(None).delete(self.detail_url(instance)), 401, "not_authenticated")
        assert not self.model.all_objects.get(pk=instance.pk).is_deleted

    def test_delete_without_permission_is_403(self) -> None:
        if not self.checks_permission:
            pytest.skip("any signed-in user may delete")
        instance = self.make(UserFactory())
        user = self.permitted(flags=("retrieve",)) if self.feature else self.unpermitted()
        assert_error(client_for(user).delete(self.detail_url(instance)), 403, "permission_denied")
        assert not self.model.all_objects.get(pk=instance.pk).is_deleted


class Action(Endpoint):
    """A non-model endpoint: one method on one URL (login, health, trash restore, ...).

    Declare `method`, `success_status`, `requires_auth`, and `call_payload()`; give
    `invalid_payload` + `invalid_attr` when the endpoint validates input. `caller()` is the
    user the successful call is made as (None: anonymous); `prepare()` returns the URL.
    """

    method: ClassVar[str] = "post"
    success_status: ClassVar[int] = 200
    requires_auth: ClassVar[bool] = True
    invalid_payload: ClassVar[Any] = None
    invalid_attr: ClassVar[str | None] = None

    def prepare(self, user: User | None) -> str:
        """The URL to call (override to create what the call needs)."""
        return self.url

    def call_payload(self) -> Any:
        """The body of a successful call."""
        return {}

    def caller(self) -> User | None:
        """Who makes the successful call."""
        if not self.requires_auth:
            return None
        return self.permitted()

    def call(self, user: User | None, url: str, payload: Any) -> Any:
        """Make the call as `user`."""
        return getattr(client_for(user), self.method)(url, payload, format="json")

    def test_action_succeeds_in_the_envelope(self) -> None:
        user = self.caller()
        url = self.prepare(user)
        assert_envelope(self.call(user, url, self.call_payload()), self.success_status)

    def test_action_anonymous_is_401(self) -> None:
        if not self.requires_auth:
            pytest.skip("open to anonymous callers")
        url = self.prepare(UserFactory())
        assert_error(self.call(None, url, self.call_payload()), 401, "not_authenticated")

    def test_action_without_permission_is_403(self) -> None:
        if not (self.requires_auth and self.checks_permission):
            pytest.skip("any signed-in user may call it")
        url = self.prepare(UserFactory())
        response = self.call(self.unpermitted(), url, self.call_payload())
        assert_error(response, 403, "permission_denied")

    def test_action_invalid_input_is_400_naming_the_field(self) -> None:
        if self.invalid_payload is None:
            pytest.skip("takes no input")
        user = self.caller()
        url = self.prepare(user)
        body = assert_envelope(self.call(user, url, self.invalid_payload), 400)
        assert self.invalid_attr in [error["attr"] for error in body["errors"]]

    def test_action_wrong_method_is_405(self) -> None:
        wrong = "put" if self.method != "put" else "post"
        user = self.caller()
        url = self.prepare(user)
        response = getattr(client_for(user), wrong)(url, {}, format="json")
        assert_error(response, 405, "method_not_allowed")
