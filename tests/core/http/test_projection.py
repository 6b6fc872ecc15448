"""Projection reads give the JSON DRF gives: every read serializer, on edge data.

Each read serializer of every app is declared here with the queryset its list reads (its
selector) or with the field that keeps it on the model path. For each projected one, the
page read through its plan (`values()` + the plan's conversions, rendered by the project's
orjson renderer) is compared byte for byte with a plain DRF `ModelSerializer` of the same
declared fields over model instances, rendered by DRF's `JSONRenderer`, on data with nulls,
deleted related rows, empty relations, decimals at their edges, microseconds and none, and
under a non-UTC current time zone.
"""

import copy
import datetime as dt
import inspect
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import QuerySet
from django.test import RequestFactory
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from apps.catalog import selectors as catalog_selectors
from apps.catalog.models import Banner, Product
from apps.catalog.serializers import (
    BannerSerializer,
    CategorySerializer,
    ProductDetailSerializer,
    ProductListSerializer,
)
from apps.catalog.serializers import TagSerializer as CatalogTagSerializer
from apps.chat import selectors as chat_selectors
from apps.chat.models import Message, Room
from apps.chat.serializers import MessageSerializer, RoomSerializer
from apps.chat.services import message_delete
from apps.core.api.serializers import (
    AuditLogSerializer,
    FeatureSerializer,
    RolePermissionSerializer,
    RoleSerializer,
)
from apps.core.audit.selectors import audit_log_list
from apps.core.http.projection import UnprojectableError, projected_rows, projection_plan
from apps.core.http.renderers import EnvelopeJSONRenderer
from apps.core.http.serializers import AppReadOnlyModelSerializer
from apps.core.models import Feature, Role, RolePermission
from apps.core.rbac.selectors import feature_list, role_list
from apps.orders import selectors as order_selectors
from apps.orders.models import OrderItem
from apps.orders.serializers import OrderExportSerializer, OrderItemSerializer, OrderSerializer
from apps.wallet import selectors as wallet_selectors
from apps.wallet.serializers import TopUpSerializer, WalletEntrySerializer
from apps.wallet.services import wallet_transfer
from tests.catalog.factories import BannerFactory, CategoryFactory, ProductFactory, TagFactory
from tests.chat import factories as chat_factories
from tests.factories import UserFactory
from tests.orders.factories import order
from tests.testapp.models import Note, Tag
from tests.testapp.serializers import NoteSerializer, TagSerializer
from tests.wallet.factories import funded, top_up

pytestmark = pytest.mark.django_db

# Every read serializer whose list is projected, with the queryset its list reads.
PROJECTED: dict[type, Callable[[], QuerySet[Any]]] = {
    CategorySerializer: catalog_selectors.category_list,
    ProductListSerializer: catalog_selectors.product_list,
    ProductDetailSerializer: catalog_selectors.product_detail,
    BannerSerializer: catalog_selectors.banner_list,
    CatalogTagSerializer: catalog_selectors.tag_list,
    OrderSerializer: order_selectors.order_list,
    OrderItemSerializer: lambda: OrderItem.objects.order_by("created_at", "sku"),
    WalletEntrySerializer: wallet_selectors.entry_list,
    TopUpSerializer: wallet_selectors.top_up_list,
    TagSerializer: lambda: Tag.objects.order_by("name"),
    MessageSerializer: lambda: chat_selectors.message_list().order_by("seq"),
    FeatureSerializer: feature_list,
    RoleSerializer: role_list,
    RolePermissionSerializer: lambda: RolePermission.objects.order_by(
        "role__code", "feature__code"
    ),
    AuditLogSerializer: audit_log_list,
    NoteSerializer: lambda: Note.objects.prefetch_related("tags").order_by("title"),
}
# Read serializers kept on DRF's model path, with the field that keeps them there.
MODEL_PATH: dict[type, tuple[Callable[[], QuerySet[Any]], str]] = {
    OrderExportSerializer: (order_selectors.order_export_list, "file_url"),
    RoomSerializer: (Room.objects.all, "members"),
}


def _read_serializers() -> set[type]:
    """Every AppReadOnlyModelSerializer subclass defined in the apps or the test app."""
    found, stack = set(), [AppReadOnlyModelSerializer]
    while stack:
        for subclass in stack.pop().__subclasses__():
            stack.append(subclass)
            if subclass.__module__.startswith(("apps.", "tests.testapp.")):
                found.add(subclass)
    return found


def test_every_read_serializer_is_declared_projected_or_on_the_model_path() -> None:
    """A new read serializer must be added above, so it gets the byte-identity test."""
    assert _read_serializers() == set(PROJECTED) | set(MODEL_PATH)


@pytest.mark.parametrize("serializer_class", list(MODEL_PATH), ids=lambda c: c.__name__)
def test_a_serializer_with_a_computed_field_keeps_the_model_path_and_says_which(
    serializer_class: type,
) -> None:
    """The plan refuses, naming the field it cannot read from columns."""
    queryset, field_name = MODEL_PATH[serializer_class]
    with pytest.raises(UnprojectableError, match=rf"\.{field_name}: "):
        projection_plan(serializer_class, queryset())


def plain_drf(serializer_class: type) -> type:
    """A plain DRF ModelSerializer with the same declared fields (method fields as DRF's own
    SerializerMethodField, calling the same methods) and Meta fields."""
    declared = copy.deepcopy(serializer_class._declared_fields)  # type: ignore[attr-defined]
    methods = {}
    for name, declared_field in list(declared.items()):
        if isinstance(declared_field, serializers.SerializerMethodField):
            method_name = declared_field.method_name or f"get_{name}"
            declared[name] = serializers.SerializerMethodField(method_name=method_name)
            methods[method_name] = getattr(serializer_class, method_name)
    model, fields = serializer_class.Meta.model, serializer_class.Meta.fields  # type: ignore[attr-defined]
    meta = type("Meta", (), {"model": model, "fields": fields})
    namespace = {**declared, **methods, "Meta": meta}
    return type(f"Plain{serializer_class.__name__}", (serializers.ModelSerializer,), namespace)


def edge_data() -> None:
    """Rows at the edges for every projected serializer."""
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    root = CategoryFactory(parent=None, sort_order=0)
    child = CategoryFactory(parent=root, sort_order=2)
    gone = CategoryFactory(parent=root, sort_order=1)
    kept, deleted = TagFactory(name="kept"), TagFactory(name="deleted")
    full = ProductFactory(
        category=child,
        price=Decimal("99999999.99"),
        discount_percent=99,
        attributes={"weight": 1e-05, "size": 1e16, "nested": {"x": [0.1, None, "é\u2028"]}},
        description="line\nbreak",
        image=SimpleUploadedFile("p.png", b"\x89PNG\r\n\x1a\n0000"),
    )
    full.tags.set([kept, deleted])
    deleted.soft_delete()
    ProductFactory(category=gone, price=Decimal("0.00"), discount_percent=0, attributes={})
    Product.objects.filter(pk=full.pk).update(created_at=moment)
    gone.soft_delete()  # its product still shows its name, as select_related does
    ProductFactory(
        category=root, price=Decimal("0.01"), discount_percent=100, attributes=[1.5, "x"]
    )
    BannerFactory(starts_at=moment, ends_at=moment + dt.timedelta(microseconds=1))
    Banner.objects.create(
        title="no image",
        link="",
        position=0,
        starts_at=moment,
        ends_at=moment + dt.timedelta(days=1),
    )
    alice, bob = UserFactory(name=""), UserFactory(name="Bob ✓")
    order(alice, products=3, quantity=2)
    cancelled = order(bob)
    OrderItem.objects.filter(order=cancelled).update(name="")
    funded(alice, "250.00")
    top_up(bob, "0.01")
    wallet_transfer(sender=alice, to_email=bob.email, amount=Decimal("0.01"), note="n")
    wallet_transfer(sender=alice, to_email=bob.email, amount=Decimal("200.00"))
    t1, t2 = Tag.objects.create(name="a"), Tag.objects.create(name="b")
    pinned = Note.objects.create(owner=alice, title="pinned", priority=5, pinned_tag=t1)
    pinned.tags.set([t1, t2])
    Note.objects.create(owner=bob, title="bare", body="")
    t2.soft_delete()
    room = chat_factories.group(alice, bob, name="Team")
    chat_factories.message(room, alice, body="first", client_id="c-1")
    kept_message = chat_factories.message(room, bob, body="é\u2028 second", client_id="")
    Message.all_objects.filter(pk=kept_message.pk).update(attachment="chat/a b.png")
    gone_message = chat_factories.message(room, bob, body="gone")
    Message.all_objects.filter(pk=gone_message.pk).update(attachment="chat/gone.pdf")
    gone_message.refresh_from_db()
    message_delete(message=gone_message, actor=bob, moderator=False)
    features = list(Feature.objects.order_by("code")[:3])
    editor, empty = (
        Role.objects.create(code="editor", name="Editor"),
        Role.objects.create(code="empty", name=""),
    )
    for feature in features:
        RolePermission.objects.create(role=editor, feature=feature, can_retrieve=True, scope="all")
    RolePermission.objects.filter(feature=features[0]).get().soft_delete()
    assert empty.permissions.count() == 0


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata"])
@pytest.mark.parametrize("serializer_class", list(PROJECTED), ids=lambda c: c.__name__)
def test_a_projected_page_is_byte_for_byte_what_drf_writes(
    serializer_class: type, zone: str
) -> None:
    """The plan's output, rendered by the project, equals a plain DRF ModelSerializer's and
    the class's own model path, over instances, rendered by DRF."""
    edge_data()
    request = RequestFactory().get("/api/v1/anything/", HTTP_HOST="testserver")
    context = {"request": request}
    queryset = PROJECTED[serializer_class]()
    with timezone.override(zone):
        projected = projected_rows(serializer_class, queryset, context)
        expected = plain_drf(serializer_class)(queryset.all(), many=True, context=context).data
        own = serializer_class(queryset.all(), many=True, context=context).data
    assert len(projected) == queryset.count() > 0
    rendered = EnvelopeJSONRenderer().render(projected)
    assert rendered == JSONRenderer().render(expected)  # plain DRF
    assert rendered == JSONRenderer().render(own)  # the class itself, on DRF's model path


def test_the_plan_reads_a_page_in_one_query_per_to_many_relation(
    django_assert_num_queries: Any,
) -> None:
    """A product page: one query for the rows (category joined), one for all their tags."""
    edge_data()
    queryset = catalog_selectors.product_list()
    with django_assert_num_queries(2):
        rows = projected_rows(ProductListSerializer, queryset, {})
    assert [row["tags"] for row in rows if row["tags"]] == [["kept"]]
    assert all(inspect.isclass(type(row)) and type(row) is dict for row in rows)


def _bytes_both_ways(serializer_class: type, queryset: QuerySet[Any]) -> tuple[bytes, bytes]:
    """The page through the plan (rendered by the project) and through DRF's model path of
    the same class (rendered by DRF)."""
    context = {"request": RequestFactory().get("/", HTTP_HOST="testserver")}
    projected = projected_rows(serializer_class, queryset, context)
    expected = serializer_class(queryset.all(), many=True, context=context).data
    return EnvelopeJSONRenderer().render(projected), JSONRenderer().render(expected)


def test_a_serializer_that_overrides_its_output_keeps_the_model_path() -> None:
    """The plan reads declared fields only: a class that changes how they are built or
    output (`to_representation`, `get_fields`, `__init__`) is not projected."""

    class Hiding(NoteSerializer):
        def to_representation(self, instance: Any) -> Any:
            data = super().to_representation(instance)
            data.pop("body")
            return data

    class Tagged(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
        def to_representation(self, value: Any) -> Any:
            return f"tag:{value.pk}"

    class PinnedTag(NoteSerializer):
        pinned_tag = Tagged(read_only=True)

        class Meta(NoteSerializer.Meta):
            fields = (*NoteSerializer.Meta.fields, "pinned_tag")

    queryset = Note.objects.order_by("title")
    with pytest.raises(UnprojectableError, match=r"overrides to_representation\(\)"):
        projection_plan(Hiding, queryset)
    with pytest.raises(UnprojectableError, match="Tagged has its own output"):
        projection_plan(PinnedTag, queryset)


def test_a_default_behind_a_null_relation_is_converted_as_drf_converts_it() -> None:
    edge_data()

    class WithDefault(NoteSerializer):
        pinned = serializers.CharField(source="pinned_tag.name", default=0)
        pinned_at = serializers.DateTimeField(
            source="pinned_tag.created_at", default=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        )

        class Meta(NoteSerializer.Meta):
            fields = (*NoteSerializer.Meta.fields, "pinned", "pinned_at")

    projected, expected = _bytes_both_ways(WithDefault, Note.objects.order_by("title"))
    assert projected == expected
    assert b'"pinned":"0"' in projected and b'"pinned_at":"2026-01-01T00:00:00Z"' in projected


def test_a_path_with_two_nullable_relations_keeps_the_model_path() -> None:
    """DRF skips or raises at whichever hop is null; the plan guards one hop only."""
    from apps.catalog.models import Category

    class Grandparent(CategorySerializer):
        grand = serializers.CharField(source="parent.parent.name", read_only=True)

        class Meta(CategorySerializer.Meta):
            fields = (*CategorySerializer.Meta.fields, "grand")

    with pytest.raises(UnprojectableError, match="more than one nullable relation"):
        projection_plan(Grandparent, Category.objects.all())


def test_a_distinct_page_keeps_rows_whose_read_columns_are_equal() -> None:
    """DISTINCT on `values()` applies to the columns read: the plan reads the key too."""
    edge_data()

    class PriceOnly(ProductListSerializer):
        class Meta(ProductListSerializer.Meta):
            fields = ("price",)

    Product.objects.update(price=Decimal("5.00"))
    queryset = Product.objects.filter(is_deleted=False).distinct().order_by("price")
    projected, expected = _bytes_both_ways(PriceOnly, queryset)
    assert projected == expected
    assert projected.count(b'"price"') == queryset.count() > 1


def test_a_reverse_one_to_one_read_by_a_field_keeps_the_model_path() -> None:
    """It is refused with a reason (it used to crash with AttributeError)."""
    from apps.accounts.models import User

    class WithWallet(serializers.ModelSerializer):  # type: ignore[type-arg]
        wallet = serializers.PrimaryKeyRelatedField(read_only=True)

        class Meta:
            model = User
            fields = ("id", "wallet")

    with pytest.raises(UnprojectableError, match="wallet"):
        projection_plan(WithWallet, User.objects.all())


def test_the_system_check_names_each_serializer_on_the_model_path() -> None:
    """`manage.py check` says which read serializers keep DRF's model path, and why."""
    from apps.core.http.checks import PROJECTION_FALLBACK_ID, projection_fallbacks_check

    messages = projection_fallbacks_check()
    assert {message.obj for message in messages} == set(MODEL_PATH)
    assert all(message.id == PROJECTION_FALLBACK_ID for message in messages)
    for message in messages:
        assert f".{MODEL_PATH[message.obj][1]}: " in message.msg


def test_written_links_stand_in_for_a_read_only_through_the_same_query() -> None:
    """The links a write looked up answer for a read only when the read would make the same
    query (same model, filters, ordering); any other read queries for itself."""
    from apps.core.http.projection import KnownRelation

    known = KnownRelation(source=Tag.objects.all(), objects={})
    assert known.read_as(Tag.objects.all())
    assert not known.read_as(Tag.objects.order_by("-name"))
    assert not known.read_as(Tag.objects.filter(name="a"))
    assert not known.read_as(Note.objects.all())
