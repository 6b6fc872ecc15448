"""Generic endpoint tests: a test class declares an endpoint and inherits its tests.

The idea of NetBox's APIViewTestCases. Compose the mixins an endpoint needs:

    class TestNoteEndpoint(api.List, api.Retrieve, api.Create, api.Update, api.Delete):
        view = NoteViewSet               # feature, public_actions, owner_field, model: from here
        url_name = "test-note"           # router basename (viewsets) or route name (views)
        def make(self, owner): ...        # one saved object
        def create_payload(self): ...
        update_payload = {...}
        invalid_payload, invalid_attr = {...}, "title"

What the tests need to know about access is read from the view: `feature`, `public_actions`,
`owner_field`, the model of its `queryset`, and from its permission classes whether it is
admin-only (`admin_only`), superuser-only (`superuser_only`) or open to anonymous callers
(`requires_auth`); `versioned` follows from the model. A test class declares one of these only
where it differs from the view. A generic test that does not apply to the endpoint is not
collected (no skips): public list/retrieve get "anonymous is 200" instead of 401/403, scope
`own` tests need an `owner_field`, 409s a versioned model, and so on (see `only_if`).

Every mixin checks the envelope, 401 for anonymous callers, 403 without permission, and the
audit rows; lists also check a constant query count; deletes the trash round trip. URLs are
built with `reverse()` under the API version.

Query counts are compared with baselines in tests/query_counts.json, per database vendor, test
class and case: more queries than the baseline fail, fewer pass with a warning that it may be
lowered. Regenerate on purpose only (xdist-safe: each write locks and merges the file):

    .venv/bin/pytest -n 2 -k query_count --update-query-baselines              # sqlite
    DATABASE_URL=postgres://… REDIS_URL=redis://… CELERY_BROKER_URL=redis://… REQUIRE_SERVICES=1 \\
        .venv/bin/pytest -n 2 -k query_count --update-query-baselines          # postgresql

A regeneration only adds and changes keys: drop those of removed tests by hand.

`ENDPOINT_TEST_CLASSES` records which views are covered (read by tests/test_conventions.py).
"""

import fcntl
import json
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.test import APIClient
from rest_framework.viewsets import ViewSetMixin

from apps.accounts.models import User
from apps.core.audit.writer import model_label
from apps.core.http.permissions import (
    AllowAdminOnly,
    AllowSuperuserOnly,
    AllowTrashAccess,
    HasFeaturePermission,
)
from apps.core.models import AuditLog, PermissionScope, VersionedModel
from tests.conftest import UPDATE_QUERY_BASELINES_OPTION, bearer
from tests.core.factories import FeatureFactory, RolePermissionFactory, UserRoleFactory
from tests.envelope import assert_envelope, assert_error
from tests.factories import UserFactory

ENDPOINT_TEST_CLASSES: list[type] = []
ALL_FLAGS = ("create", "retrieve", "update", "delete")
API_VERSION = "v1"
UNKNOWN_ID = "00000000-0000-0000-0000-000000000000"
VERSION_CONFLICT_MESSAGE = "This record was modified by another user. Please refresh and try again."

ADMIN_PERMISSIONS = (AllowAdminOnly, AllowTrashAccess, AllowSuperuserOnly)
KNOWN_PERMISSIONS = (*ADMIN_PERMISSIONS, AllowAny, IsAuthenticated, HasFeaturePermission)
MISSING_URL_NAME_MESSAGE = (
    "{test} declares no `url_name`: add the route name, e.g. url_name = 'catalog-product' "
    "(a viewset's router basename) or url_name = 'accounts:login' (a view's route)."
)
UNKNOWN_PERMISSION_MESSAGE = (
    "{test}: cannot tell who may call {view} from its permission classes {permissions}; "
    "declare `requires_auth` and `admin_only` (or `feature`) on the test class."
)

QUERY_BASELINES_PATH = Path(__file__).with_name("query_counts.json")
QUERY_BASELINES_NAME = QUERY_BASELINES_PATH.relative_to(Path(__file__).parents[1]).as_posix()
REGENERATE_HINT = (
    f"regenerate with `.venv/bin/pytest -k query_count {UPDATE_QUERY_BASELINES_OPTION}` "
    "(with the services' env vars for postgresql)"
)
QUERY_BASELINE_MISSING_MESSAGE = (
    "no {vendor} query-count baseline for {key} [{case}] in {path}: " + REGENERATE_HINT
)
QUERY_BASELINE_EXCEEDED_MESSAGE = (
    "{key} [{case}] ran {count} queries on {vendor}, more than the baseline {baseline} in "
    "{path}; remove the extra queries or, when they are intended, " + REGENERATE_HINT
)
QUERY_BASELINE_LOWER_MESSAGE = (
    "{key} [{case}] ran {count} queries on {vendor}, fewer than the baseline {baseline} in "
    "{path}: lower it; " + REGENERATE_HINT
)

GenericTest = TypeVar("GenericTest", bound=Callable[..., None])


def grant(user: User, feature: str, flags: tuple[str, ...] = ALL_FLAGS, scope: str = "all") -> None:
    """Give `user` a fresh role with `flags` on `feature` (created if missing)."""
    permission = RolePermissionFactory(
        feature=FeatureFactory(code=feature),
        scope=PermissionScope(scope),
        **{f"can_{flag}": flag in flags for flag in ALL_FLAGS},
    )
    UserRoleFactory(user=user, role=permission.role)


def client_for(user: User | None, *, idempotency_key: str | None = None) -> APIClient:
    """A client authenticated as `user` with a real JWT (anonymous for None), sending
    `idempotency_key` on every request when one is given."""
    client = APIClient()
    headers = {}
    if user is not None:
        headers["HTTP_AUTHORIZATION"] = bearer(user)
    if idempotency_key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = idempotency_key
    client.credentials(**headers)
    return client


def api_url(name: str, version: str | None = API_VERSION, **kwargs: Any) -> str:
    """`reverse()` of route `name` of the versioned API (`version=None`: an unversioned one)."""
    if version is not None:
        kwargs = {"version": version, **kwargs}
    return reverse(name, kwargs=kwargs)


def audit_rows(instance: Any, action: str) -> int:
    """How many audit rows record `action` on `instance`."""
    return AuditLog.objects.filter(
        model=model_label(instance), object_id=str(instance.pk), action=action
    ).count()


# --- query-count baselines -----------------------------------------------------------------


class QueryCountBelowBaseline(UserWarning):
    """A generic test ran fewer queries than its stored baseline: the baseline may be lowered."""


def query_baselines_read() -> dict[str, Any]:
    """The stored baselines: `{vendor: {test class: {case: count}}}`."""
    if not QUERY_BASELINES_PATH.exists():
        return {}
    text = QUERY_BASELINES_PATH.read_text(encoding="utf-8")
    return json.loads(text) if text.strip() else {}


def query_baseline_record(*, vendor: str, key: str, case: str, count: int) -> None:
    """Store one baseline: read, change one key and write under an exclusive lock (xdist)."""
    QUERY_BASELINES_PATH.touch(exist_ok=True)
    with QUERY_BASELINES_PATH.open("r+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        text = handle.read()
        baselines = json.loads(text) if text.strip() else {}
        baselines.setdefault(vendor, {}).setdefault(key, {})[case] = count
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(baselines, indent=2, sort_keys=True) + "\n")


def assert_query_baseline(request: pytest.FixtureRequest, case: str, count: int) -> None:
    """Fail when `count` exceeds the stored baseline, warn when it is below it.

    With `--update-query-baselines` the count is recorded instead.
    """
    vendor = connection.vendor
    key = f"{request.node.cls.__module__}.{request.node.cls.__qualname__}"
    if request.config.getoption(UPDATE_QUERY_BASELINES_OPTION):
        query_baseline_record(vendor=vendor, key=key, case=case, count=count)
        return
    baseline = query_baselines_read().get(vendor, {}).get(key, {}).get(case)
    facts = {"vendor": vendor, "key": key, "case": case, "path": QUERY_BASELINES_NAME}
    if baseline is None:
        pytest.fail(QUERY_BASELINE_MISSING_MESSAGE.format(**facts))
    facts.update(count=count, baseline=baseline)
    assert count <= baseline, QUERY_BASELINE_EXCEEDED_MESSAGE.format(**facts)
    if count < baseline:
        message = QUERY_BASELINE_LOWER_MESSAGE.format(**facts)
        warnings.warn(message, QueryCountBelowBaseline, stacklevel=2)


# --- what the endpoint declares ------------------------------------------------------------


def _any_is(permissions: tuple[Any, ...], classes: tuple[type, ...]) -> bool:
    """True when one of the permission classes is (a subclass of) one of `classes`."""
    return any(isinstance(p, type) and issubclass(p, classes) for p in permissions)


def view_declarations(view: type) -> dict[str, Any]:
    """What the generic tests need to know about `view`, as the view itself declares it."""
    permissions = tuple(getattr(view, "permission_classes", ()))
    queryset = getattr(view, "queryset", None)
    return {
        "model": queryset.model if queryset is not None else None,
        "feature": getattr(view, "feature", None),
        "public_actions": tuple(getattr(view, "public_actions", ())),
        "owner_field": getattr(view, "owner_field", None),
        "admin_only": _any_is(permissions, ADMIN_PERMISSIONS),
        "superuser_only": _any_is(permissions, (AllowSuperuserOnly,)),
        "requires_auth": not _any_is(permissions, (AllowAny,)),
        "idempotent": bool(
            getattr(view, "idempotent_actions", ()) or getattr(view, "idempotent_methods", ())
        ),
    }


def only_if(applies: Callable[[Any], bool]) -> Callable[[GenericTest], GenericTest]:
    """Collect the decorated generic test only in endpoint classes for which `applies(cls)`."""

    def mark(test: GenericTest) -> GenericTest:
        test.applies = applies  # type: ignore[attr-defined]
        return test

    return mark


def _declared_by_test(cls: type, name: str) -> bool:
    """True when a test class (not this module, not derived from a view) sets `name`."""
    for klass in cls.__mro__:
        if name in vars(klass):
            derived = vars(klass).get("derived_from_view", ())
            return klass.__module__ != __name__ and name not in derived
    return False


def _inherited_test(cls: type, name: str) -> Any:
    """The test method `name` as the class would have it before any was left out."""
    return next((vars(k)[name] for k in cls.__mro__ if vars(k).get(name) is not None), None)


@pytest.mark.django_db
class Endpoint:
    """What every endpoint test class declares, and the callers it tests with."""

    view: ClassVar[Any] = None  # the view class covered: the defaults below come from it
    url_name: ClassVar[str]
    api_version: ClassVar[str | None] = API_VERSION  # None for routes without `version`
    model: ClassVar[Any] = None
    feature: ClassVar[str | None] = None
    public_actions: ClassVar[tuple[str, ...]] = ()
    owner_field: ClassVar[str | None] = None
    admin_only: ClassVar[bool] = False
    superuser_only: ClassVar[bool] = False
    requires_auth: ClassVar[bool] = True
    versioned: ClassVar[bool] = False
    idempotent: ClassVar[bool] = False  # the view runs some requests once per Idempotency-Key
    derived_from_view: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Take the defaults from `view`; in Test* classes, leave out tests that do not apply."""
        super().__init_subclass__(**kwargs)
        if cls.view is not None:
            cls._derive_from_view()
        if cls.__name__.startswith("Test"):
            if not (hasattr(cls, "url_name") or isinstance(cls.url, str)):
                raise TypeError(MISSING_URL_NAME_MESSAGE.format(test=cls.__name__))
            ENDPOINT_TEST_CLASSES.append(cls)
            cls._leave_out_inapplicable_tests()

    @classmethod
    def _derive_from_view(cls) -> None:
        """Set what `view_declarations` reads (and `versioned`) unless the test declares it."""
        permissions = getattr(cls.view, "permission_classes", ())
        declares_access = any(_declared_by_test(cls, n) for n in ("requires_auth", "admin_only"))
        unknown = [p for p in permissions if not _any_is((p,), KNOWN_PERMISSIONS)]
        if unknown and not declares_access:
            raise TypeError(
                UNKNOWN_PERMISSION_MESSAGE.format(
                    test=cls.__name__, view=cls.view.__name__, permissions=unknown
                )
            )
        derived = {
            name: value
            for name, value in view_declarations(cls.view).items()
            if not _declared_by_test(cls, name)
        }
        if not _declared_by_test(cls, "versioned"):
            model = derived.get("model", cls.model)
            derived["versioned"] = isinstance(model, type) and issubclass(model, VersionedModel)
        for name, value in derived.items():
            setattr(cls, name, value)
        cls.derived_from_view = tuple(derived)

    @classmethod
    def _leave_out_inapplicable_tests(cls) -> None:
        """Hide (set to None) the inherited tests whose `only_if` condition is false here."""
        for name in dir(cls):
            test = _inherited_test(cls, name) if name.startswith("test_") else None
            applies = getattr(test, "applies", None)
            if applies is not None:  # set either way: a parent test class may have hidden it
                setattr(cls, name, test if applies(cls) else None)

    # --- what applies ---------------------------------------------------------------------

    @classmethod
    def is_public(cls, action: str) -> bool:
        """True when anyone, signed in or not, may do `action`."""
        return action in cls.public_actions

    @classmethod
    def checks_permission(cls, action: str | None = None) -> bool:
        """True when a signed-in caller also needs a permission (for `action`)."""
        guarded = cls.admin_only or cls.feature is not None
        return guarded and cls.requires_auth and not (action and cls.is_public(action))

    @classmethod
    def has_owner_scope(cls, action: str | None = None) -> bool:
        """True when scope `own` narrows the rows (of `action`) to the caller's."""
        scoped = bool(cls.owner_field) and not cls.admin_only
        return scoped and not (action and cls.is_public(action))

    @classmethod
    def is_viewset(cls) -> bool:
        """True for a router-registered viewset (list and detail routes)."""
        return isinstance(cls.view, type) and issubclass(cls.view, ViewSetMixin)

    # --- declarations an endpoint provides ------------------------------------------------

    def make(self, owner: User) -> Any:
        """One saved object owned by `owner` (override)."""
        raise NotImplementedError(f"{type(self).__name__} must define make(owner)")

    def url_for(self, **kwargs: Any) -> str:
        """The endpoint's URL (a viewset's collection) with the route's `kwargs`."""
        route = f"{self.url_name}-list" if self.is_viewset() else self.url_name
        return api_url(route, self.api_version, **kwargs)

    @property
    def url(self) -> str:
        """The endpoint's URL (a viewset's collection)."""
        return self.url_for()

    def detail_url(self, instance: Any, pk: Any = None) -> str:
        """One object's URL (the endpoint's own URL when it has no id in it)."""
        if not self.is_viewset():
            return self.url
        return api_url(f"{self.url_name}-detail", self.api_version, pk=pk or instance.pk)

    # --- callers --------------------------------------------------------------------------

    def client_for(self, user: User | None) -> APIClient:
        """A client as `user`; with a fresh Idempotency-Key when the view asks for one."""
        key = f"generic-{uuid.uuid4()}" if self.idempotent else None
        return client_for(user, idempotency_key=key)

    def permitted(self, flags: tuple[str, ...] = ALL_FLAGS, scope: str = "all") -> User:
        """A user allowed to do `flags` (staff or superuser for admin endpoints)."""
        if self.admin_only:
            return UserFactory(is_staff=True, is_superuser=self.superuser_only)
        user = UserFactory()
        if self.feature:
            grant(user, self.feature, flags, scope)
        return user

    def unpermitted(self) -> User:
        """An authenticated user with no permission on this endpoint."""
        return UserFactory()

    def reader(self) -> User:
        """A user who may read but not write (no permission at all on admin endpoints)."""
        return self.permitted(flags=("retrieve",)) if self.feature else self.unpermitted()


class List(Endpoint):
    """GET on the collection."""

    def test_list_is_an_enveloped_page(self) -> None:
        user = self.permitted()
        self.make(user)
        body = assert_envelope(self.client_for(user).get(self.url), 200)
        assert isinstance(body["data"], list)
        assert body["data"]
        assert body["meta"]["pagination"] is not None

    @only_if(lambda cls: not cls.is_public("list"))
    def test_list_anonymous_is_401(self) -> None:
        assert_error(self.client_for(None).get(self.url), 401, "not_authenticated")

    @only_if(lambda cls: cls.checks_permission("list"))
    def test_list_without_permission_is_403(self) -> None:
        assert_error(self.client_for(self.unpermitted()).get(self.url), 403, "permission_denied")

    @only_if(lambda cls: cls.is_public("list"))
    def test_list_is_public_anonymous_and_unpermitted_callers_get_the_page(self) -> None:
        self.make(UserFactory())
        for caller in (None, self.unpermitted()):
            body = assert_envelope(self.client_for(caller).get(self.url), 200)
            assert body["data"]
            assert body["meta"]["pagination"] is not None

    def test_list_query_count_does_not_grow_with_rows(
        self, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
    ) -> None:
        if hasattr(self.view, "cache_responses"):  # measure the database path, not the cache
            monkeypatch.setattr(self.view, "cache_responses", False)
        user = self.permitted()
        client = self.client_for(user)
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
        assert_query_baseline(request, "list", len(many))

    @only_if(lambda cls: cls.has_owner_scope("list"))
    def test_list_with_scope_own_shows_only_own_rows(self) -> None:
        mine_user = self.permitted(scope="own")
        mine = self.make(mine_user)
        self.make(UserFactory())
        body = assert_envelope(self.client_for(mine_user).get(self.url), 200)
        assert [row["id"] for row in body["data"]] == [str(mine.pk)]


class Retrieve(Endpoint):
    """GET on one object."""

    def test_retrieve_is_enveloped(self) -> None:
        user = self.permitted()
        instance = self.make(user)
        body = assert_envelope(self.client_for(user).get(self.detail_url(instance)), 200)
        assert body["data"]["id"] == str(instance.pk)

    @only_if(lambda cls: not cls.is_public("retrieve"))
    def test_retrieve_anonymous_is_401(self) -> None:
        instance = self.make(UserFactory())
        assert_error(self.client_for(None).get(self.detail_url(instance)), 401, "not_authenticated")

    @only_if(lambda cls: cls.checks_permission("retrieve"))
    def test_retrieve_without_permission_is_403(self) -> None:
        instance = self.make(UserFactory())
        response = self.client_for(self.unpermitted()).get(self.detail_url(instance))
        assert_error(response, 403, "permission_denied")

    @only_if(lambda cls: cls.is_public("retrieve"))
    def test_retrieve_is_public_anonymous_and_unpermitted_callers_get_the_object(self) -> None:
        instance = self.make(UserFactory())
        for caller in (None, self.unpermitted()):
            body = assert_envelope(self.client_for(caller).get(self.detail_url(instance)), 200)
            assert body["data"]["id"] == str(instance.pk)

    @only_if(lambda cls: cls.has_owner_scope("retrieve"))
    def test_retrieve_someone_elses_object_with_scope_own_is_404(self) -> None:
        theirs = self.make(UserFactory())
        response = self.client_for(self.permitted(scope="own")).get(self.detail_url(theirs))
        body = assert_error(response, 404, "not_found")
        assert str(theirs.pk) not in str(body)

    @only_if(lambda cls: cls.is_viewset())
    def test_retrieve_unknown_id_is_404(self) -> None:
        user = self.permitted()
        self.make(user)
        url = self.detail_url(None, pk=UNKNOWN_ID)
        assert_error(self.client_for(user).get(url), 404, "not_found")


class Create(Endpoint):
    """POST on the collection."""

    invalid_payload: ClassVar[dict[str, Any]] = {}
    invalid_attr: ClassVar[str | None] = None

    def create_payload(self) -> dict[str, Any]:
        """A valid body for one new object (override)."""
        raise NotImplementedError(f"{type(self).__name__} must define create_payload()")

    def test_create_is_201_with_the_object_and_an_audit_row(self) -> None:
        user = self.permitted()
        body = assert_envelope(self.client_for(user).post(self.url, self.create_payload()), 201)
        instance = self.model.objects.get(pk=body["data"]["id"])
        assert audit_rows(instance, "create") == 1
        assert AuditLog.objects.get(object_id=str(instance.pk)).actor == user

    def test_create_invalid_payload_is_400_naming_the_field(self) -> None:
        before = self.model.all_objects.count()
        response = self.client_for(self.permitted()).post(self.url, self.invalid_payload)
        body = assert_envelope(response, 400)
        assert self.invalid_attr in [error["attr"] for error in body["errors"]]
        assert self.model.all_objects.count() == before

    def test_create_empty_body_is_400(self) -> None:
        response = self.client_for(self.permitted()).post(self.url, {}, format="json")
        assert_envelope(response, 400)

    def test_create_anonymous_is_401(self) -> None:
        assert_error(
            self.client_for(None).post(self.url, self.create_payload()), 401, "not_authenticated"
        )

    @only_if(lambda cls: cls.checks_permission("create"))
    def test_create_without_permission_is_403(self) -> None:
        response = self.client_for(self.reader()).post(self.url, self.create_payload())
        assert_error(response, 403, "permission_denied")


class BulkCreate(Endpoint):
    """POST of a JSON array on the collection: all or nothing, constant queries."""

    def bulk_payload(self, count: int) -> list[dict[str, Any]]:
        """`count` valid, distinct items (override)."""
        raise NotImplementedError(f"{type(self).__name__} must define bulk_payload(count)")

    bulk_invalid_item: ClassVar[dict[str, Any]] = {}
    bulk_invalid_attr: ClassVar[str] = ""

    def test_bulk_create_writes_every_row_and_audit_row(self) -> None:
        client = self.client_for(self.permitted())
        body = assert_envelope(client.post(self.url, self.bulk_payload(10), format="json"), 201)
        assert len(body["data"]) == 10
        ids = [row["id"] for row in body["data"]]
        assert self.model.objects.filter(pk__in=ids).count() == 10
        assert AuditLog.objects.filter(action="create", object_id__in=ids).count() == 10

    def test_bulk_create_query_count_does_not_grow_with_items(
        self, request: pytest.FixtureRequest
    ) -> None:
        client = self.client_for(self.permitted())
        client.post(self.url, self.bulk_payload(1), format="json")  # warm caches
        counts = []
        for size in (10, 500):
            payload = self.bulk_payload(size)
            with CaptureQueriesContext(connection) as queries:
                assert_envelope(client.post(self.url, payload, format="json"), 201)
            counts.append(len(queries))
        assert counts[0] == counts[1], counts
        assert_query_baseline(request, "bulk_create", counts[1])

    def test_bulk_create_with_one_bad_item_creates_nothing_and_names_its_index(self) -> None:
        payload = self.bulk_payload(5)
        payload[3] = {**payload[3], **self.bulk_invalid_item}
        before = self.model.all_objects.count()
        response = self.client_for(self.permitted()).post(self.url, payload, format="json")
        body = assert_envelope(response, 400)
        assert f"3.{self.bulk_invalid_attr}" in [error["attr"] for error in body["errors"]]
        assert self.model.all_objects.count() == before

    def test_bulk_create_empty_or_oversized_array_is_400(self, settings: Any) -> None:
        client = self.client_for(self.permitted())
        assert_error(client.post(self.url, [], format="json"), 400, "empty")
        settings.BULK_MAX_ITEMS = 3
        assert_error(client.post(self.url, self.bulk_payload(4), format="json"), 400, "max_length")


class Update(Endpoint):
    """PATCH on one object."""

    update_payload: ClassVar[dict[str, Any]] = {}
    update_invalid_payload: ClassVar[dict[str, Any]] = {}
    update_invalid_attr: ClassVar[str | None] = None

    def _payload(self, instance: Any, payload: dict[str, Any]) -> dict[str, Any]:
        """The payload, with the current version for versioned models."""
        return {**payload, "version": instance.version} if self.versioned else dict(payload)

    def test_update_changes_the_object_and_writes_an_audit_row(self) -> None:
        user = self.permitted()
        instance = self.make(user)
        response = self.client_for(user).patch(
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
            self.client_for(user).patch(self.detail_url(instance), payload, format="json"), 400
        )
        assert self.update_invalid_attr in [error["attr"] for error in body["errors"]]
        assert audit_rows(instance, "update") == 0

    def test_update_anonymous_is_401(self) -> None:
        instance = self.make(UserFactory())
        response = self.client_for(None).patch(
            self.detail_url(instance), self.update_payload, format="json"
        )
        assert_error(response, 401, "not_authenticated")

    @only_if(lambda cls: cls.checks_permission("partial_update"))
    def test_update_without_permission_is_403(self) -> None:
        instance = self.make(UserFactory())
        response = self.client_for(self.reader()).patch(
            self.detail_url(instance), self.update_payload, format="json"
        )
        assert_error(response, 403, "permission_denied")

    @only_if(lambda cls: cls.has_owner_scope("partial_update"))
    def test_update_of_someone_elses_object_with_scope_own_is_404(self) -> None:
        theirs = self.make(UserFactory())
        user = self.permitted(scope="own")
        payload = self._payload(theirs, self.update_payload)
        assert_error(
            self.client_for(user).patch(self.detail_url(theirs), payload, format="json"),
            404,
            "not_found",
        )
        assert audit_rows(theirs, "update") == 0

    @only_if(lambda cls: cls.versioned)
    def test_update_with_a_stale_version_is_409_and_without_one_400(self) -> None:
        user = self.permitted()
        instance = self.make(user)
        url = self.detail_url(instance)
        client = self.client_for(user)
        assert_envelope(
            client.patch(url, self._payload(instance, self.update_payload), format="json"), 200
        )
        stale = {**self.update_payload, "version": instance.version}
        body = assert_error(client.patch(url, stale, format="json"), 409, "version_conflict")
        assert body["message"] == VERSION_CONFLICT_MESSAGE
        assert_error(
            client.patch(url, dict(self.update_payload), format="json"), 400, "required", "version"
        )


class Delete(Endpoint):
    """DELETE on one object: soft delete, audited, in the trash, restorable."""

    def test_delete_soft_deletes_and_the_trash_round_trip_restores_it(self) -> None:
        user = self.permitted()
        instance = self.make(user)
        client = self.client_for(user)
        body = assert_envelope(client.delete(self.detail_url(instance)), 200)
        assert body["data"] is None
        stored = self.model.all_objects.get(pk=instance.pk)
        assert stored.is_deleted
        assert stored.deleted_by == user
        assert_error(client.get(self.detail_url(instance)), 404, "not_found")
        assert audit_rows(instance, "delete") == 1

        admin = self.client_for(UserFactory(is_staff=True))
        label = model_label(instance)
        trash = assert_envelope(admin.get(api_url("trash-list"), {"model": label}), 200)
        assert str(instance.pk) in [row["id"] for row in trash["data"]]
        restore = api_url("trash-restore", model=label, pk=instance.pk)
        assert_envelope(admin.post(restore), 200)
        assert not self.model.all_objects.get(pk=instance.pk).is_deleted
        assert audit_rows(instance, "restore") == 1
        assert_envelope(client.get(self.detail_url(instance)), 200)

    @only_if(lambda cls: cls.has_owner_scope("destroy"))
    def test_delete_of_someone_elses_object_with_scope_own_is_404(self) -> None:
        theirs = self.make(UserFactory())
        assert_error(
            self.client_for(self.permitted(scope="own")).delete(self.detail_url(theirs)),
            404,
            "not_found",
        )
        assert not self.model.all_objects.get(pk=theirs.pk).is_deleted

    def test_delete_anonymous_is_401(self) -> None:
        instance = self.make(UserFactory())
        assert_error(
            self.client_for(None).delete(self.detail_url(instance)), 401, "not_authenticated"
        )
        assert not self.model.all_objects.get(pk=instance.pk).is_deleted

    @only_if(lambda cls: cls.checks_permission("destroy"))
    def test_delete_without_permission_is_403(self) -> None:
        instance = self.make(UserFactory())
        assert_error(
            self.client_for(self.reader()).delete(self.detail_url(instance)),
            403,
            "permission_denied",
        )
        assert not self.model.all_objects.get(pk=instance.pk).is_deleted


class Action(Endpoint):
    """A non-model endpoint: one method on one URL (login, health, trash restore, ...).

    Declare `method`, `success_status` and `call_payload()`; give `invalid_payload` +
    `invalid_attr` when the endpoint validates input. `caller()` is the user the successful
    call is made as (None: anonymous); `prepare()` returns the URL.
    """

    method: ClassVar[str] = "post"
    success_status: ClassVar[int] = 200
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
        return getattr(self.client_for(user), self.method)(url, payload, format="json")

    def test_action_succeeds_in_the_envelope(self) -> None:
        user = self.caller()
        url = self.prepare(user)
        assert_envelope(self.call(user, url, self.call_payload()), self.success_status)

    @only_if(lambda cls: cls.requires_auth)
    def test_action_anonymous_is_401(self) -> None:
        url = self.prepare(UserFactory())
        assert_error(self.call(None, url, self.call_payload()), 401, "not_authenticated")

    @only_if(lambda cls: cls.checks_permission())
    def test_action_without_permission_is_403(self) -> None:
        url = self.prepare(UserFactory())
        response = self.call(self.unpermitted(), url, self.call_payload())
        assert_error(response, 403, "permission_denied")

    @only_if(lambda cls: cls.invalid_payload is not None)
    def test_action_invalid_input_is_400_naming_the_field(self) -> None:
        user = self.caller()
        url = self.prepare(user)
        body = assert_envelope(self.call(user, url, self.invalid_payload), 400)
        assert self.invalid_attr in [error["attr"] for error in body["errors"]]

    def test_action_wrong_method_is_405(self) -> None:
        wrong = "put" if self.method != "put" else "post"
        user = self.caller()
        url = self.prepare(user)
        response = getattr(self.client_for(user), wrong)(url, {}, format="json")
        assert_error(response, 405, "method_not_allowed")
