"""Every write the Django admin can make is audited.

The test enumerates `admin.site`'s ModelAdmins and, for each write path a superuser has there
(add, change, delete, every action, every page the admin adds beyond Django's own), performs it
through the admin's pages with the test client and asserts the audit row it must leave. A write
path missing from `WRITE_PATHS` fails `test_every_admin_write_path_is_declared`, so an admin
(ours or a library's) cannot be registered without its writes being audited.

Change pages are posted as the browser would send them: the admin's own form and inline
formsets, rendered for the stored row, with the declared fields changed (`form_data`).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django import forms
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.models import User
from apps.catalog.models import Banner
from apps.chat.models import Message, Room
from apps.core.models import AuditAction, AuditLog, Role
from apps.core.records.services import object_soft_delete
from apps.orders.models import Order, OrderExport, OrderStatus
from apps.wallet.models import Account
from tests.catalog.factories import CategoryFactory, ProductFactory, TagFactory
from tests.chat.factories import chatter, group, message
from tests.core.factories import FeatureFactory, RoleFactory, UserRoleFactory
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.orders.factories import order
from tests.wallet.factories import funded

pytestmark = pytest.mark.django_db

# The admin's own pages; any other URL a ModelAdmin adds is a write path to declare.
STANDARD_PAGES = ("changelist", "add", "history", "delete", "change")
NEW_PASSWORD = "An0ther-Long-Passphrase!"
BANNER_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\xa5\xf6"
    b"E@\x00\x00\x00\x00IEND\xaeB`\x82"
)


def _superuser_request(method: str = "post") -> Any:
    """A request from an (unsaved) superuser, to ask the ModelAdmins what it may do."""
    request = getattr(RequestFactory(), method)("/admin/")
    request.user = User(email="probe@example.com", is_staff=True, is_superuser=True)
    return request


def admin_write_paths() -> set[str]:
    """Every write path the registered ModelAdmins offer a superuser: `label:add`,
    `label:change`, `label:delete`, `label:action:<name>` and `label:page:<url name>`."""
    request = _superuser_request()
    paths = set()
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        if model_admin.has_add_permission(request):
            paths.add(f"{label}:add")
        if model_admin.has_change_permission(request):
            paths.add(f"{label}:change")
        if model_admin.has_delete_permission(request):
            paths.add(f"{label}:delete")
        paths.update(f"{label}:action:{name}" for name in model_admin.get_actions(request))
        info = (model._meta.app_label, model._meta.model_name)
        standard = {"{}_{}_{}".format(*info, page) for page in STANDARD_PAGES}
        paths.update(
            f"{label}:page:{pattern.name}"
            for pattern in model_admin.get_urls()
            if getattr(pattern, "name", None) and pattern.name not in standard
        )
    return paths


def _field_data(form: forms.BaseForm) -> dict[str, Any]:
    """The POST values a browser sends for a rendered form (unchecked boxes omitted)."""
    data: dict[str, Any] = {}
    for bound in form:
        if bound.field.disabled:
            continue
        value, widget = bound.value(), bound.field.widget
        if isinstance(widget, forms.MultiWidget):
            for index, part in enumerate(widget.decompress(value)):
                data[f"{bound.html_name}_{index}"] = "" if part is None else str(part)
        elif isinstance(widget, forms.CheckboxInput):
            if value:
                data[bound.html_name] = "on"
        elif isinstance(value, list | tuple):
            data[bound.html_name] = [str(item) for item in value]
        elif value is not None:
            data[bound.html_name] = str(value)
    return data


def form_data(model: type[models.Model], obj: models.Model, **changes: Any) -> dict[str, Any]:
    """What the admin's change page of `obj` posts, with `changes` applied: the form's fields
    and every inline formset (management form and rows), prefixed as the admin does."""
    model_admin = admin.site._registry[model]
    request = _superuser_request("get")
    data = _field_data(model_admin.get_form(request, obj, change=True)(instance=obj))
    seen: dict[str, int] = {}
    for formset_class, inline in model_admin.get_formsets_with_inlines(request, obj):
        prefix = formset_class.get_default_prefix()
        seen[prefix] = seen.get(prefix, 0) + 1
        if seen[prefix] > 1:
            prefix = f"{prefix}-{seen[prefix]}"
        formset = formset_class(instance=obj, prefix=prefix, queryset=inline.get_queryset(request))
        data.update(_field_data(formset.management_form))
        for row in formset.forms:
            data.update(_field_data(row))
    data.update(changes)
    return data


def _url(model: type[models.Model], page: str, *args: Any) -> str:
    """An admin URL of `model`."""
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


@dataclass
class Expected:
    """The audit row a write path must leave: its model, action and object (None: a new
    object of the model) and fields its changes must name."""

    model: type[models.Model]
    action: str
    object_id: Any = None
    fields: tuple[str, ...] = field(default=())


@dataclass
class WritePath:
    """How the test makes the row a write path needs (before it starts counting audit rows)
    and performs the write through the admin's pages."""

    make: Callable[[], Any]
    perform: Callable[[Client, Any], Expected]


def _nothing() -> None:
    """No row to make (add pages)."""


def _change(
    model: type[models.Model], make: Callable[[], Any], *names: str, **changes: Any
) -> WritePath:
    """A change-page write of a made row, with `changes` (values, or callables of the row);
    the audit row must name `names` (default: the changed fields)."""

    def perform(client: Client, obj: Any) -> Expected:
        values = {key: value(obj) if callable(value) else value for key, value in changes.items()}
        response = client.post(_url(model, "change", obj.pk), form_data(model, obj, **values))
        assert response.status_code == 302, _errors(response)
        return Expected(model, AuditAction.UPDATE, obj.pk, names or tuple(changes))

    return WritePath(make, perform)


def _add(model: type[models.Model], payload: Callable[[], dict[str, Any]]) -> WritePath:
    """An add-page write."""

    def perform(client: Client, _obj: None) -> Expected:
        response = client.post(_url(model, "add"), payload())
        assert response.status_code == 302, _errors(response)
        return Expected(model, AuditAction.CREATE)

    return WritePath(_nothing, perform)


def _delete(model: type[models.Model], make: Callable[[], Any], action: str) -> WritePath:
    """A delete-page write (soft delete for BaseModel rows, purge otherwise)."""

    def perform(client: Client, obj: Any) -> Expected:
        response = client.post(_url(model, "delete", obj.pk), {"post": "yes"})
        assert response.status_code == 302, _errors(response)
        return Expected(model, action, obj.pk)

    return WritePath(make, perform)


def _action(
    model: type[models.Model],
    make: Callable[[], Any],
    name: str,
    action: str,
    query: str = "",
    **extra: Any,
) -> WritePath:
    """A changelist action on one made row, posted from the changelist filtered by `query`
    as the admin's page does (the trash: `?deleted=deleted`); `extra`: the action's form."""

    def perform(client: Client, obj: Any) -> Expected:
        body = {"action": name, "_selected_action": [str(obj.pk)], "post": "yes", **extra}
        response = client.post(_url(model, "changelist") + query, body)
        assert response.status_code == 302, _errors(response)
        return Expected(model, action, obj.pk)

    return WritePath(make, perform)


def _soft_deletable(model: type[models.Model], make: Callable[[], Any]) -> dict[str, WritePath]:
    """The write paths every SoftDeleteAdmin offers beyond add and change: delete, the bulk
    delete action and the restore action."""
    label = model._meta.label_lower
    return {
        f"{label}:delete": _delete(model, make, AuditAction.DELETE),
        f"{label}:action:delete_selected": _action(
            model, make, "delete_selected", AuditAction.DELETE
        ),
        f"{label}:action:restore_selected": _action(
            model,
            lambda: _deleted(make()),
            "restore_selected",
            AuditAction.RESTORE,
            query="?deleted=deleted",
        ),
    }


def _purgeable(model: type[models.Model], make: Callable[[], Any]) -> dict[str, WritePath]:
    """The delete paths of an admin over a model without soft delete: both purge the row."""
    label = model._meta.label_lower
    return {
        f"{label}:delete": _delete(model, make, AuditAction.PURGE),
        f"{label}:action:delete_selected": _action(
            model, make, "delete_selected", AuditAction.PURGE
        ),
    }


def _errors(response: Any) -> str:
    """The admin form's errors, when a post did not redirect."""
    context = response.context
    adminform = context.get("adminform") if context is not None else None
    if adminform is not None:
        inlines = [formset.formset.errors for formset in context.get("inline_admin_formsets", [])]
        return f"{adminform.form.errors} {inlines}"
    return response.content.decode()[:1500]


def _deleted(obj: Any) -> Any:
    """The row, soft-deleted (for restore actions)."""
    object_soft_delete(instance=obj, actor=None)
    return obj


def _outstanding() -> OutstandingToken:
    """The outstanding row of a new refresh token."""
    token = RefreshToken.for_user(UserFactory())
    return OutstandingToken.objects.get(jti=token["jti"])


def _blacklisted() -> BlacklistedToken:
    """A revoked refresh token."""
    return BlacklistedToken.objects.create(token=_outstanding())


def _attempt() -> AccessAttempt:
    """Failed logins that count towards a lockout."""
    return AccessAttempt.objects.create(
        username="locked@example.com",
        ip_address="203.0.113.9",
        user_agent="test",
        http_accept="*/*",
        path_info="/admin/login/",
        failures_since_start=3,
    )


def _order_in(status: str) -> Order:
    """A placed order of a new customer, moved to `status` (to test the next move)."""
    placed = order(UserFactory())
    Order.all_objects.filter(pk=placed.pk).update(status=status)
    placed.refresh_from_db()
    return placed


def _export() -> OrderExport:
    """An order export request."""
    return OrderExport.objects.create(requester=UserFactory(), format="csv")


def _wallet() -> Account:
    """A funded customer wallet."""
    customer = UserFactory()
    funded(customer, "50.00")
    return Account.objects.get(owner=customer)


def _banner() -> Banner:
    """A banner running for a week."""
    now = timezone.now()
    return Banner.objects.create(title="Sale", starts_at=now, ends_at=now + timedelta(days=7))


def _banner_payload() -> dict[str, Any]:
    """An add-page body for a banner with an image."""
    now = timezone.now()
    return {
        "title": "Spring",
        "image": SimpleUploadedFile("spring.png", BANNER_PNG, content_type="image/png"),
        "link": "https://example.com/spring",
        "position": "1",
        "starts_at_0": now.date().isoformat(),
        "starts_at_1": "00:00:00",
        "ends_at_0": (now + timedelta(days=7)).date().isoformat(),
        "ends_at_1": "00:00:00",
    }


def _other_permission(_obj: Any = None) -> list[str]:
    """The permission a change page grants instead (a privilege change)."""
    return [str(Permission.objects.get(codename="change_product").pk)]


def _password_set() -> WritePath:
    """The user admin's set-password page."""

    def perform(client: Client, user: User) -> Expected:
        response = client.post(
            reverse("admin:auth_user_password_change", args=[user.pk]),
            {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        )
        assert response.status_code == 302, _errors(response)
        return Expected(User, AuditAction.UPDATE, user.pk, ("password",))

    return WritePath(UserFactory, perform)


Feature = FeatureFactory._meta.model
UserRole = UserRoleFactory._meta.model
Category = CategoryFactory._meta.model
Tag = TagFactory._meta.model
Product = ProductFactory._meta.model

# Every write path of every registered ModelAdmin, and how the test performs it.
WRITE_PATHS: dict[str, WritePath] = {
    # core: features, roles (permissions inline), role assignments
    "core.feature:change": _change(Feature, FeatureFactory, name="Renamed"),
    **_soft_deletable(Feature, FeatureFactory),
    "core.role:add": _add(
        Role,
        lambda: {
            "code": "auditor",
            "name": "Auditor",
            "permissions-TOTAL_FORMS": "0",
            "permissions-INITIAL_FORMS": "0",
        },
    ),
    "core.role:change": _change(Role, RoleFactory, name="Renamed"),
    **_soft_deletable(Role, RoleFactory),
    "core.userrole:add": _add(
        UserRole, lambda: {"user": str(UserFactory().pk), "role": str(RoleFactory().pk)}
    ),
    "core.userrole:change": _change(
        UserRole, UserRoleFactory, "role_id", role=lambda _obj: str(RoleFactory().pk)
    ),
    **_soft_deletable(UserRole, UserRoleFactory),
    # accounts: users, their flags and passwords
    "accounts.user:add": _add(
        User,
        lambda: {
            "email": "added@example.com",
            "name": "Added",
            "password1": DEFAULT_PASSWORD,
            "password2": DEFAULT_PASSWORD,
        },
    ),
    "accounts.user:change": _change(
        User,
        UserFactory,
        "is_active",
        "is_staff",
        "is_superuser",
        "user_permissions",
        user_permissions=_other_permission,
        is_staff="on",
        is_superuser="on",
        is_active="",
    ),
    **_soft_deletable(User, UserFactory),
    "accounts.user:page:auth_user_password_change": _password_set(),
    # refresh token revocations, login lockouts
    "token_blacklist.blacklistedtoken:add": _add(
        BlacklistedToken, lambda: {"token": str(_outstanding().pk)}
    ),
    **_purgeable(BlacklistedToken, _blacklisted),
    **_purgeable(AccessAttempt, _attempt),
    # catalog
    "catalog.category:add": _add(
        Category, lambda: {"name": "Garden", "slug": "garden", "sort_order": "1", "is_active": "on"}
    ),
    "catalog.category:change": _change(Category, CategoryFactory, name="Renamed"),
    **_soft_deletable(Category, CategoryFactory),
    "catalog.tag:add": _add(Tag, lambda: {"name": "new-tag"}),
    "catalog.tag:change": _change(Tag, TagFactory, name="renamed-tag"),
    **_soft_deletable(Tag, TagFactory),
    "catalog.product:add": _add(
        Product,
        lambda: {
            "category": str(CategoryFactory().pk),
            "sku": "ADM-1",
            "name": "Admin product",
            "slug": "admin-product",
            "discount_percent": "0",
            "price": "9.99",
            "currency": "USD",
            "stock": "3",
            "is_active": "on",
            "attributes": "{}",
        },
    ),
    "catalog.product:change": _change(Product, ProductFactory, price="12.50"),
    **_soft_deletable(Product, ProductFactory),
    "catalog.banner:add": _add(Banner, _banner_payload),
    "catalog.banner:change": _change(Banner, _banner, title="Winter sale"),
    **_soft_deletable(Banner, _banner),
    # orders: moves go through the order service
    "orders.order:change": _change(
        Order, lambda: _order_in(OrderStatus.PENDING), note="Leave at the door"
    ),
    "orders.order:action:restore_selected": _action(
        Order,
        lambda: _deleted(_order_in(OrderStatus.PENDING)),
        "restore_selected",
        AuditAction.RESTORE,
        query="?deleted=deleted",
    ),
    "orders.order:action:mark_shipped": _action(
        Order, lambda: _order_in(OrderStatus.PAID), "mark_shipped", AuditAction.UPDATE
    ),
    "orders.order:action:mark_delivered": _action(
        Order, lambda: _order_in(OrderStatus.SHIPPED), "mark_delivered", AuditAction.UPDATE
    ),
    "orders.order:action:mark_cancelled": _action(
        Order, lambda: _order_in(OrderStatus.PENDING), "mark_cancelled", AuditAction.UPDATE
    ),
    **_soft_deletable(OrderExport, _export),
    # wallet: the ledger is read-only; a correction is a posted adjustment
    "wallet.account:action:post_adjustment": _action(
        Account,
        _wallet,
        "post_adjustment",
        AuditAction.UPDATE,
        apply="1",
        amount="-5.00",
        reason="Goodwill correction",
    ),
    # chat: moderation deletes and restores
    **_soft_deletable(Room, lambda: group(chatter(), chatter())),
    **_soft_deletable(Message, lambda: message(group(owner := chatter()), owner)),
}


def test_every_admin_write_path_is_declared() -> None:
    """The admin offers exactly the declared write paths: a new one (a new ModelAdmin, an
    action, a page) must be added to WRITE_PATHS, and so is tested for its audit row."""
    offered = admin_write_paths()
    assert sorted(offered - WRITE_PATHS.keys()) == [], "admin write paths without a test"
    assert sorted(WRITE_PATHS.keys() - offered) == [], "declared paths the admin no longer has"


@pytest.mark.parametrize("path", sorted(WRITE_PATHS))
def test_admin_write_path_is_audited(path: str, admin_client: Client) -> None:
    """Performing the write through the admin leaves its audit row, with the admin as actor
    and the changed fields named."""
    write = WRITE_PATHS[path]
    obj = write.make()
    before = set(AuditLog.objects.values_list("pk", flat=True))
    expected = write.perform(admin_client, obj)
    rows = AuditLog.objects.exclude(pk__in=before).filter(
        model=expected.model._meta.label_lower, action=expected.action
    )
    if expected.object_id is not None:
        rows = rows.filter(object_id=str(expected.object_id))
    assert rows, f"{path}: no {expected.action} audit row"
    assert {row.actor_repr for row in rows} == {"root@example.com"}
    named = {name for row in rows for name in row.changes}
    assert set(expected.fields) <= named, [row.changes for row in rows]


def test_a_refresh_token_revoked_in_the_admin_is_refused_and_unrevoking_is_audited(
    admin_client: Client, api_client: Any
) -> None:
    """Blacklisting a token in the admin revokes it at once; deleting the revocation is
    recorded with the token it brought back."""
    refresh = RefreshToken.for_user(UserFactory())
    outstanding = OutstandingToken.objects.get(jti=refresh["jti"])
    response = admin_client.post(_url(BlacklistedToken, "add"), {"token": str(outstanding.pk)})
    assert response.status_code == 302, _errors(response)
    refused = api_client.post(
        reverse("accounts:refresh", kwargs={"version": "v1"}),
        {"refresh": str(refresh)},
        format="json",
    )
    assert refused.status_code == 401
    revocation = BlacklistedToken.objects.get(token=outstanding)
    admin_client.post(_url(BlacklistedToken, "delete", revocation.pk), {"post": "yes"})
    row = AuditLog.objects.get(model="token_blacklist.blacklistedtoken", action=AuditAction.PURGE)
    assert row.changes["token_id"] == [outstanding.pk, None]


def test_features_come_from_code_and_are_never_added_by_hand(admin_client: Client) -> None:
    """Issue 14: a feature added in the admin was retired by the next sync (no view declares
    it); the add page is gone and a feature's code cannot be edited."""
    assert admin_client.get(reverse("admin:core_feature_add")).status_code == 403
    feature = FeatureFactory()
    page = admin_client.get(reverse("admin:core_feature_change", args=[feature.pk]))
    assert page.status_code == 200
    assert b'name="code"' not in page.content
