"""Issue 14, item 9: an admin that does not lose work.

Two admins editing one product: the second save is refused with the conflict message and
the form comes back with what was typed (nothing overwritten, nothing audited). The trash shows
when each row was deleted and by whom; the delete pages say the row goes to the trash and can be
restored; Django's unused Groups are not in the admin.
"""

import re
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from apps.accounts.models import User
from apps.catalog.models import Product
from apps.core import admin as admin_module
from apps.core.admin import LOADED_VERSION_FIELD, MISSING_VERSION_MESSAGE, STALE_FORM_MESSAGE
from apps.core.exceptions import VERSION_CONFLICT_MESSAGE
from apps.core.models import AuditAction, AuditLog
from apps.core.records.services import object_soft_delete, object_update
from apps.orders.models import Order, OrderStatus
from tests.catalog.factories import ProductFactory
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.orders.factories import order
from tests.test_admin_audit import form_data

pytestmark = pytest.mark.django_db

PRODUCT_CHANGE = "admin:catalog_product_change"
PRODUCT_CHANGELIST = "admin:catalog_product_changelist"


def _change_url(product: Product) -> str:
    """The product's admin change page."""
    return reverse(PRODUCT_CHANGE, args=[product.pk])


def _second_admin() -> Client:
    """Another superuser's admin session."""
    other = User.objects.create_superuser("second@example.com", DEFAULT_PASSWORD, name="Second")
    client = Client()
    client.force_login(other)
    return client


def _updates(product: Product) -> list[AuditLog]:
    """The product's update audit rows."""
    return list(
        AuditLog.objects.filter(object_id=str(product.pk), action=AuditAction.UPDATE).order_by(
            "created_at"
        )
    )


def _unescaped(response: Any) -> str:
    """The page's HTML with Django's escaping of quotes undone (to find messages)."""
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


def test_the_change_form_carries_the_version_it_was_loaded_with(admin_client: Client) -> None:
    product = ProductFactory()
    object_update(instance=product, data={"stock": 9}, version=1)  # now version 2
    page = admin_client.get(_change_url(product))
    assert page.status_code == 200
    hidden = re.findall(
        rf'<input type="hidden" name="{LOADED_VERSION_FIELD}" value="(\d+)"', page.content.decode()
    )
    assert hidden == ["2"]


def test_a_fresh_save_writes_and_bumps_the_version(admin_client: Client) -> None:
    product = ProductFactory(name="Old name")
    response = admin_client.post(_change_url(product), form_data(Product, product, name="New name"))
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.name, product.version) == ("New name", 2)
    [row] = _updates(product)
    assert row.changes["name"] == ["Old name", "New name"]
    assert row.changes["version"] == [1, 2]
    assert row.actor_repr == "root@example.com"


def test_of_two_admins_on_one_version_the_second_save_is_refused_and_keeps_the_form(
    admin_client: Client,
) -> None:
    """Issue 14: two admins editing one product in the admin silently lost one edit."""
    product = ProductFactory(name="Kettle", price="10.00")
    first = form_data(Product, product, name="Kettle (first)")
    second = form_data(Product, product, name="Kettle (second)", price="99.99")
    assert first[LOADED_VERSION_FIELD] == second[LOADED_VERSION_FIELD] == "1"

    saved = _second_admin().post(_change_url(product), first)
    assert saved.status_code == 302
    refused = admin_client.post(_change_url(product), second)

    assert refused.status_code == 200  # the form again, not a redirect
    html = _unescaped(refused)
    assert VERSION_CONFLICT_MESSAGE in html
    assert "your changes are still in the form below" in html
    assert refused.context["adminform"].form.non_field_errors() == [STALE_FORM_MESSAGE]
    assert 'value="Kettle (second)"' in html  # what the user typed is still there
    assert 'value="99.99"' in html
    product.refresh_from_db()
    assert (product.name, product.price, product.version) == ("Kettle (first)", 10, 2)
    assert [row.actor_repr for row in _updates(product)] == ["second@example.com"]


def test_a_form_made_stale_by_an_api_write_is_refused(admin_client: Client) -> None:
    """The API and the admin share one lock: the same conditional UPDATE on `version`."""
    product = ProductFactory(stock=5)
    stale = form_data(Product, product, stock="1")
    object_update(instance=product, data={"stock": 7}, version=product.version)  # the API's write
    refused = admin_client.post(_change_url(product), stale)
    assert refused.status_code == 200
    assert VERSION_CONFLICT_MESSAGE in _unescaped(refused)
    product.refresh_from_db()
    assert (product.stock, product.version) == (7, 2)
    # Reloaded, the form carries the new version and saves.
    response = admin_client.post(_change_url(product), form_data(Product, product, stock="1"))
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.stock, product.version) == (1, 3)


def test_a_write_landing_between_the_forms_validation_and_its_save_is_not_overwritten(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check is the UPDATE itself (`WHERE version = <loaded>`), not a read before it:
    another writer committing after the form was validated still wins."""
    product = ProductFactory(name="Chair")
    real_update = admin_module.object_update

    def another_writer_first(**kwargs: Any) -> Any:
        Product.all_objects.filter(pk=product.pk).update(name="Their chair", version=2)
        return real_update(**kwargs)

    monkeypatch.setattr(admin_module, "object_update", another_writer_first)
    refused = admin_client.post(_change_url(product), form_data(Product, product, name="Mine"))
    assert refused.status_code == 200
    assert VERSION_CONFLICT_MESSAGE in _unescaped(refused)
    product.refresh_from_db()
    # The test's "other writer" shares the admin's connection, so the refused save's rollback
    # undoes it too; a real one commits on its own. Either way "Mine" was never written.
    assert product.name != "Mine"
    assert _updates(product) == []


def test_a_stale_save_of_an_unchanged_form_is_refused_too(admin_client: Client) -> None:
    """Saving an old page unchanged would write its old values back: refused as well."""
    product = ProductFactory(name="Lamp")
    stale = form_data(Product, product)
    object_update(instance=product, data={"name": "Lamp v2"}, version=1)
    refused = admin_client.post(_change_url(product), stale)
    assert refused.status_code == 200
    product.refresh_from_db()
    assert (product.name, product.version) == ("Lamp v2", 2)


def test_a_form_without_its_version_is_refused(admin_client: Client) -> None:
    product = ProductFactory(name="Lamp")
    data = form_data(Product, product, name="Changed")
    del data[LOADED_VERSION_FIELD]
    refused = admin_client.post(_change_url(product), data)
    assert refused.status_code == 200
    assert MISSING_VERSION_MESSAGE in _unescaped(refused)
    product.refresh_from_db()
    assert (product.name, product.version) == ("Lamp", 1)


def test_orders_edited_in_the_admin_are_locked_the_same_way(admin_client: Client) -> None:
    placed = order(UserFactory())
    Order.all_objects.filter(pk=placed.pk).update(status=OrderStatus.PENDING)
    placed.refresh_from_db()
    url = reverse("admin:orders_order_change", args=[placed.pk])
    stale = form_data(Order, placed, note="Leave at the door")
    object_update(instance=placed, data={"note": "Ring twice"}, version=placed.version)
    refused = admin_client.post(url, stale)
    assert refused.status_code == 200
    assert VERSION_CONFLICT_MESSAGE in _unescaped(refused)
    placed.refresh_from_db()
    assert placed.note == "Ring twice"


def test_the_trash_shows_when_and_by_whom_each_row_was_deleted(admin_client: Client) -> None:
    deleter = UserFactory(email="cleaner@example.com")
    gone = ProductFactory(name="Gone product")
    ProductFactory(name="Live product")
    object_soft_delete(instance=gone, actor=deleter)
    url = reverse(PRODUCT_CHANGELIST)

    trash = admin_client.get(f"{url}?deleted=deleted")
    html = trash.content.decode()
    assert trash.status_code == 200
    assert re.search(
        r'class="[^"]*column-deleted_at">\s*<div class="text"><a [^>]*>Deleted at', html
    )
    assert re.search(
        r'class="[^"]*column-deleted_by">\s*<div class="text"><a [^>]*>Deleted by', html
    )
    assert re.search(r'<td class="field-deleted_by[^"]*">[^<]*cleaner@example.com', html)
    assert "Gone product" in html and "Live product" not in html
    row = trash.context["cl"].result_list[0]
    assert row.deleted_at is not None

    live = admin_client.get(url).content.decode()
    assert "column-deleted_at" not in live and "column-deleted_by" not in live


def test_the_trash_reads_the_deleting_users_with_the_rows(
    admin_client: Client, django_assert_max_num_queries: Any
) -> None:
    for number in range(5):
        object_soft_delete(instance=ProductFactory(), actor=UserFactory(email=f"d{number}@x.io"))
    url = f"{reverse(PRODUCT_CHANGELIST)}?deleted=deleted"
    admin_client.get(url)  # warm the session and content types
    with django_assert_max_num_queries(12):
        page = admin_client.get(url)
    assert all(f"d{number}@x.io" in page.content.decode() for number in range(5))


def test_the_delete_page_says_the_row_goes_to_the_trash_and_can_be_restored(
    admin_client: Client,
) -> None:
    product = ProductFactory(name="Teapot")
    url = reverse("admin:catalog_product_delete", args=[product.pk])
    page = _unescaped(admin_client.get(url))
    assert "to the trash" in page
    assert "can be restored from the trash" in page
    assert 'value="Yes, move it to the trash"' in page
    assert "All of the following related items will be deleted" not in page

    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert Product.all_objects.get(pk=product.pk).is_deleted  # in the trash, not gone


def test_the_bulk_delete_says_the_rows_go_to_the_trash(admin_client: Client) -> None:
    first, second = ProductFactory(), ProductFactory()
    url = reverse(PRODUCT_CHANGELIST)
    changelist = admin_client.get(url)
    assert "Move selected products to the trash" in changelist.content.decode()
    confirm = admin_client.post(
        url, {"action": "delete_selected", "_selected_action": [str(first.pk), str(second.pk)]}
    )
    page = _unescaped(confirm)
    assert "Move the selected products to the trash?" in page
    assert "can be restored from the trash" in page
    assert not Product.all_objects.filter(is_deleted=True).exists()


def test_django_groups_are_not_in_the_admin(admin_client: Client) -> None:
    """Unused: API permissions are roles, admin access is a user's flags and permissions."""
    assert not admin.site.is_registered(Group)
    index = admin_client.get(reverse("admin:index")).content.decode()
    assert "/admin/auth/group/" not in index
    assert admin_client.get("/admin/auth/group/").status_code == 404
    user = UserFactory()
    page = admin_client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert page.status_code == 200
    assert 'name="groups"' not in page.content.decode()
    assert 'name="user_permissions"' in page.content.decode()
