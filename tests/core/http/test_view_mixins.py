"""Each core view mixin works on its own, on DRF's GenericViewSet, with the hooks it documents."""

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import include, path, reverse
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter
from rest_framework.viewsets import GenericViewSet

from apps.core.http.mixins import (
    AppCreateModelMixin,
    BulkUpdateModelMixin,
    CachedListModelMixin,
    ConditionalGetMixin,
    IdempotencyMixin,
    SoftDestroyModelMixin,
)
from apps.core.http.mixins.bulk import BULK_HOOK_MESSAGE
from apps.core.http.views import AppModelViewSet
from apps.core.models import AuditLog
from tests import api_cases as api
from tests.envelope import assert_envelope, assert_error
from tests.factories import UserFactory
from tests.testapp.models import Tag
from tests.testapp.serializers import TagWriteSerializer

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


class Bare:
    """What every probe declares: open access, the tags, one serializer."""

    permission_classes = (AllowAny,)
    throttle_classes = ()
    queryset = Tag.objects.all()
    serializer_class = TagWriteSerializer


class CreateOnly(Bare, AppCreateModelMixin, GenericViewSet):
    """Create and nothing else."""


class ListOnly(Bare, CachedListModelMixin, GenericViewSet):
    """DRF's list through the cache mixin (caching off)."""


class DestroyOnly(Bare, SoftDestroyModelMixin, GenericViewSet):
    """Soft delete and nothing else."""


class TaggedList(Bare, ConditionalGetMixin, CachedListModelMixin, GenericViewSet):
    """A list with ETags."""

    etag = True


class BulkRename(Bare, BulkUpdateModelMixin, GenericViewSet):
    """PATCH of an array, alone."""


class IdempotentCreate(IdempotencyMixin, Bare, AppCreateModelMixin, GenericViewSet):
    """Create once per key (needs a caller: keys are per user)."""

    permission_classes = ()
    idempotent_methods = ("POST",)


router = SimpleRouter()
router.register("create-only", CreateOnly, basename="create-only")
router.register("list-only", ListOnly, basename="list-only")
router.register("destroy-only", DestroyOnly, basename="destroy-only")
router.register("tagged", TaggedList, basename="tagged")
router.register("idempotent", IdempotentCreate, basename="idempotent")
urlpatterns = [
    path("bulk-rename/", BulkRename.as_view({"patch": "bulk_update"}), name="bulk-rename"),
    path("", include(router.urls)),
]


def test_create_alone_answers_201_in_the_envelope_and_records_it() -> None:
    body = assert_envelope(
        api.client_for(None).post(reverse("create-only-list"), {"name": "a"}), 201
    )
    assert body["data"] == {"name": "a"}  # without SerializerByActionMixin: the action's own
    tag = Tag.objects.get()
    assert AuditLog.objects.filter(object_id=str(tag.pk), action="create").count() == 1


def test_list_alone_is_drf_list_with_the_envelope_and_pagination() -> None:
    Tag.objects.create(name="x")
    body = assert_envelope(api.client_for(None).get(reverse("list-only-list")), 200)
    assert body["data"] == [{"name": "x"}]
    assert body["meta"]["pagination"]["count"] == 1


def test_destroy_alone_soft_deletes_and_answers_null() -> None:
    tag = Tag.objects.create(name="gone")
    body = assert_envelope(
        api.client_for(None).delete(reverse("destroy-only-detail", args=[tag.pk])), 200
    )
    assert body["data"] is None
    assert Tag.all_objects.get(pk=tag.pk).is_deleted


def test_etag_alone_answers_304_to_a_matching_if_none_match() -> None:
    Tag.objects.create(name="x")
    client = api.client_for(None)
    first = client.get(reverse("tagged-list"))
    assert_envelope(first, 200)
    second = client.get(reverse("tagged-list"), HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 304
    assert second.content == b""


def test_bulk_update_alone_changes_every_item_or_none() -> None:
    one, two = Tag.objects.create(name="one"), Tag.objects.create(name="two")
    client = api.client_for(None)
    payload = [{"id": str(one.pk), "name": "uno"}, {"id": str(two.pk), "name": "dos"}]
    body = assert_envelope(client.patch(reverse("bulk-rename"), payload, format="json"), 200)
    assert sorted(item["name"] for item in body["data"]) == ["dos", "uno"]
    bad = [{"id": str(one.pk), "name": "eins"}, {"id": "not-a-row", "name": "x"}]
    assert_error(client.patch(reverse("bulk-rename"), bad, format="json"), 400, "not_found", "1.id")
    assert Tag.objects.get(pk=one.pk).name == "uno"


def test_idempotency_alone_runs_once_per_key() -> None:
    client = api.client_for(UserFactory())
    url = reverse("idempotent-list")
    first = client.post(url, {"name": "once"}, HTTP_IDEMPOTENCY_KEY="k")
    again = client.post(url, {"name": "once"}, HTTP_IDEMPOTENCY_KEY="k")
    assert_envelope(first, 201)
    assert_envelope(again, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert Tag.objects.count() == 1


def test_idempotency_needs_a_caller_even_where_the_view_is_open(api_client: Any) -> None:
    url = reverse("idempotent-list")
    response = api_client.post(url, {"name": "x"}, HTTP_IDEMPOTENCY_KEY="k")
    assert_error(response, 401, "not_authenticated")


def test_overriding_perform_create_alone_fails_loudly_at_class_creation() -> None:
    """An array would otherwise skip the one-object hook (and its business rules)."""
    with pytest.raises(ImproperlyConfigured) as refused:

        class OneHookOnly(AppModelViewSet):
            def perform_create(self, serializer: Any) -> Any:
                return serializer.save()

    assert str(refused.value) == BULK_HOOK_MESSAGE.format(view="OneHookOnly")

    class BothHooks(AppModelViewSet):
        def perform_create(self, serializer: Any) -> Any:
            return serializer.save()

        def perform_bulk_create(self, serializer: Any) -> Any:
            return serializer.save()

    assert BothHooks.perform_bulk_create is not None
