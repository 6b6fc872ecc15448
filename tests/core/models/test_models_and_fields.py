"""BaseModel soft delete, the encrypted field, the serializer guard and the seed command."""

import io
import re
import types

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from rest_framework import serializers

from apps.accounts.models import User
from apps.accounts.seed import DEMO_ADMIN_EMAIL
from apps.core.http.serializers import AppModelSerializer
from apps.core.management.commands.seed import (
    NO_SEED_FUNCTION_MESSAGE,
    seed_function,
    seed_modules,
)
from apps.core.models import Feature, Role, RolePermission, UserRole
from apps.core.models.base import rows_soft_deleted
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_queryset_delete_soft_deletes_and_hard_delete_removes() -> None:
    keep, gone = UserFactory(), UserFactory()
    count, per_model = User.objects.filter(pk=gone.pk).delete()
    assert (count, per_model) == (1, {"accounts.User": 1})
    assert list(User.objects.all()) == [keep]
    assert User.all_objects.get(pk=gone.pk).deleted_at is not None
    User.all_objects.filter(pk=gone.pk).hard_delete()
    assert not User.all_objects.filter(pk=gone.pk).exists()


def test_instance_delete_soft_deletes_like_the_queryset() -> None:
    keep, gone = UserFactory(), UserFactory()
    received: list[dict[str, object]] = []

    def listener(sender: type, **kwargs: object) -> None:
        received.append({"sender": sender, "count": kwargs["count"]})

    rows_soft_deleted.connect(listener)
    try:
        assert gone.delete() == (1, {"accounts.User": 1})
    finally:
        rows_soft_deleted.disconnect(listener)

    assert received == [{"sender": User, "count": 1}]
    assert list(User.objects.all()) == [keep]
    stored = User.all_objects.get(pk=gone.pk)
    assert stored.is_deleted
    assert stored.deleted_at is not None
    assert gone.is_deleted  # the instance in hand knows it too
    assert gone.delete() == (0, {"accounts.User": 0})  # already in the trash


def test_soft_delete_records_who_and_restore_brings_it_back() -> None:
    actor, target = UserFactory(), UserFactory()
    target.soft_delete(by=actor)
    stored = User.all_objects.get(pk=target.pk)
    assert (stored.is_deleted, stored.deleted_by) == (True, actor)
    stored.restore()
    assert User.objects.filter(pk=target.pk).exists()
    assert User.objects.get(pk=target.pk).deleted_by is None


def test_encrypted_field_survives_key_rotation(settings) -> None:
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    user = UserFactory(phone="+14155550123")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old_key]
    assert User.objects.get(pk=user.pk).phone == "+14155550123"


def test_encrypted_field_without_its_key_fails_loudly(settings) -> None:
    user = UserFactory(phone="+14155550123")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS"):
        User.objects.get(pk=user.pk)


def test_empty_phone_is_stored_empty() -> None:
    assert User.objects.get(pk=UserFactory(phone="").pk).phone == ""


def test_model_serializer_refuses_all_fields() -> None:
    class LeakySerializer(AppModelSerializer):
        class Meta:
            model = User
            fields = serializers.ALL_FIELDS

    with pytest.raises(AssertionError, match="must list `fields` explicitly"):
        _ = LeakySerializer(UserFactory()).data


def test_seed_creates_the_demo_admin_once_and_prints_its_login(settings, tmp_path) -> None:
    settings.BASE_DIR = tmp_path
    first, second = io.StringIO(), io.StringIO()
    call_command("seed", stdout=first)
    call_command("seed", stdout=second)
    admin = User.objects.get(email=DEMO_ADMIN_EMAIL)
    assert admin.is_superuser
    assert admin.is_staff
    password = first.getvalue().split(" / ")[1].split()[0]
    assert admin.check_password(password)
    assert password not in second.getvalue()
    assert "already exists" in second.getvalue()
    assert User.objects.filter(email=DEMO_ADMIN_EMAIL).count() == 1
    credentials = (tmp_path / ".demo-admin-password").read_text().splitlines()
    assert credentials[0].split() == [DEMO_ADMIN_EMAIL, password]
    assert credentials[1].startswith("manager@example.com ")
    assert set(Role.objects.values_list("code", flat=True)) >= {"admin", "manager", "customer"}
    assert UserRole.objects.filter(user=admin, role__code="admin").count() == 1


def test_seed_writes_the_logins_where_demo_credentials_file_says(settings, tmp_path) -> None:
    """A container's code is read-only: the logins go to a writable place instead."""
    settings.BASE_DIR = tmp_path / "code"
    settings.DEMO_CREDENTIALS_FILE = str(tmp_path / "writable" / "logins")
    (tmp_path / "writable").mkdir()
    out = io.StringIO()
    call_command("seed", stdout=out)
    lines = (tmp_path / "writable" / "logins").read_text().splitlines()
    assert [line.split()[0] for line in lines] == [
        DEMO_ADMIN_EMAIL, "manager@example.com", "customer@example.com",
    ]  # fmt: skip
    assert str(tmp_path / "writable" / "logins") in out.getvalue()
    assert not (tmp_path / "code").exists()


def test_seed_runs_each_apps_seed_module_in_installed_apps_order() -> None:
    names = [module.__name__ for module in seed_modules()]
    assert "apps.accounts.seed" in names
    assert "apps.catalog.seed" in names
    assert names.index("apps.accounts.seed") < names.index("apps.catalog.seed")


def test_a_seed_module_without_a_seed_function_is_refused() -> None:
    message = NO_SEED_FUNCTION_MESSAGE.format(module="apps.broken.seed")
    with pytest.raises(CommandError, match=re.escape(message)):
        seed_function(types.ModuleType("apps.broken.seed"))


def test_seed_grants_the_default_roles_once(settings, tmp_path) -> None:
    settings.BASE_DIR = tmp_path
    call_command("seed", stdout=io.StringIO())
    grants = RolePermission.objects.count()
    call_command("seed", stdout=io.StringIO())
    assert RolePermission.objects.count() == grants
    admin_features = RolePermission.objects.filter(role__code="admin", can_delete=True)
    assert admin_features.count() == Feature.objects.count()
    catalog = RolePermission.objects.filter(feature__code__startswith="catalog.")
    assert catalog.filter(role__code="manager", can_create=True).count() >= 3
    assert catalog.filter(role__code="customer", can_retrieve=True).count() >= 3
    assert not catalog.filter(role__code="customer", can_create=True).exists()
    orders = RolePermission.objects.filter(feature__code="orders.orders")
    assert orders.get(role__code="manager").scope == "all"
    customer_orders = orders.get(role__code="customer")
    assert (customer_orders.scope, customer_orders.can_create) == ("own", True)
    wallet = RolePermission.objects.filter(feature__code="wallet.wallet")
    assert {(p.role.code, p.scope, p.can_create) for p in wallet} >= {
        ("customer", "own", True),
        ("manager", "own", True),
    }
    chat = RolePermission.objects.filter(feature__code__startswith="chat.")
    assert {(p.role.code, p.feature.code, p.scope, p.can_create) for p in chat} >= {
        ("customer", "chat.rooms", "own", True),
        ("customer", "chat.messages", "own", True),
        ("manager", "chat.rooms", "own", True),
        ("manager", "chat.messages", "all", True),
    }
    others = (
        RolePermission.objects.exclude(feature__code__startswith="catalog.")
        .exclude(feature__code__startswith="orders.")
        .exclude(feature__code__startswith="wallet.")
        .exclude(feature__code__startswith="chat.")
    )
    assert not others.filter(role__code__in=("manager", "customer")).exists()


def test_sync_features_command_reports_what_it_did() -> None:
    out = io.StringIO()
    call_command("sync_features", stdout=out)
    assert out.getvalue().startswith("Features created:")
