"""Issue 14, item 11: the demo admin's session in Django's admin, in a real browser.

Sign in, move a product to the trash (the confirmation says it can be restored), restore it
from the trash view (who deleted it and when are shown), run into the optimistic lock on a
form another client made stale (the form keeps what was typed), and read the audit log.
"""

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select

from apps.catalog.models import Product
from apps.core.exceptions import VERSION_CONFLICT_MESSAGE
from apps.core.models import AuditAction, AuditLog
from tests.browser.conftest import Demo, Screenshots, wait

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

API_TIMEOUT = 10
DELETED_BY_CELL = "./ancestor::tr/td[contains(@class, 'field-deleted_by')]"


def success_message(browser: WebDriver) -> str:
    """The text of the admin's success message on the page now shown."""
    element = wait(browser).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, ".messagelist .success"))
    )
    return element.text


def visible(browser: WebDriver, css: str) -> WebElement:
    """The element, once it is on the page and shown."""
    return wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)))


def api_rename(demo: Demo, product: Product, name: str) -> int:
    """Rename the product as another API client would (login, read, PATCH with its version);
    the version it has now."""
    login = requests.post(
        f"{demo.url}/api/v1/auth/login/",
        json={"email": demo.admin_email, "password": demo.admin_password},
        timeout=API_TIMEOUT,
    )
    headers = {"Authorization": f"Bearer {login.json()['data']['access']}"}
    url = f"{demo.url}/api/v1/catalog/products/{product.pk}/"
    version = requests.get(url, headers=headers, timeout=API_TIMEOUT).json()["data"]["version"]
    answer = requests.patch(
        url, json={"name": name, "version": version}, headers=headers, timeout=API_TIMEOUT
    )
    assert answer.status_code == 200, answer.text
    new_version: int = answer.json()["data"]["version"]
    return new_version


def sign_in(browser: WebDriver, demo: Demo, shots: Screenshots) -> None:
    """Sign in on the admin's login page as the demo admin."""
    browser.get(f"{demo.url}/admin/")
    visible(browser, "#id_username").send_keys(demo.admin_email)
    browser.find_element(By.ID, "id_password").send_keys(demo.admin_password, Keys.ENTER)
    assert demo.admin_email in visible(browser, "#user-tools").text.lower()
    shots.take("signed in")


def move_to_trash(browser: WebDriver, demo: Demo, shots: Screenshots, product: Product) -> None:
    """Delete the product from its change page; the confirmation says it can come back."""
    browser.get(f"{demo.url}/admin/catalog/product/{product.pk}/change/")
    visible(browser, "a.deletelink").click()
    notice = visible(browser, "#soft-delete-notice").text
    assert "to the trash" in notice and "can be restored" in notice
    shots.take("delete confirmation says trash")
    browser.find_element(By.CSS_SELECTOR, "#content form input[type=submit]").click()
    assert "deleted successfully" in success_message(browser)
    shots.take("moved to the trash")
    assert Product.all_objects.get(pk=product.pk).is_deleted


def restore_from_trash(
    browser: WebDriver, demo: Demo, shots: Screenshots, product: Product
) -> None:
    """Open the trash (the list's Deleted filter): when and by whom; restore the product."""
    browser.find_element(By.LINK_TEXT, "Deleted").click()
    row = visible(browser, f"#result_list input.action-select[value='{product.pk}']")
    headers = browser.find_element(By.CSS_SELECTOR, "#result_list thead").text.upper()
    assert "DELETED AT" in headers and "DELETED BY" in headers
    deleted_by = row.find_element(By.XPATH, DELETED_BY_CELL)
    browser.execute_script("arguments[0].scrollIntoView({inline: 'end'});", deleted_by)
    assert deleted_by.text == demo.admin_email
    shots.take("trash shows deleted at and by")
    row.click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("restore_selected")
    browser.find_element(By.CSS_SELECTOR, "button[name=index]").click()
    assert "Restored 1 row(s)." in success_message(browser)
    shots.take("restored from the trash")
    assert not Product.all_objects.get(pk=product.pk).is_deleted


def save_a_stale_form(browser: WebDriver, demo: Demo, shots: Screenshots, product: Product) -> None:
    """Load the change form, let another client rename the product, then save the form:
    refused with the conflict message, the typed name kept, nothing written."""
    browser.get(f"{demo.url}/admin/catalog/product/{product.pk}/change/")
    name = visible(browser, "#id_name")
    loaded = browser.find_element(By.NAME, "loaded_version").get_attribute("value")
    version_now = api_rename(demo, product, "Renamed through the API")
    assert loaded is not None and version_now == int(loaded) + 1
    name.send_keys(Keys.CONTROL, "a")
    name.send_keys("Typed in the admin")
    browser.find_element(By.NAME, "_save").click()
    assert VERSION_CONFLICT_MESSAGE in visible(browser, ".errorlist.nonfield").text
    assert visible(browser, "#id_name").get_attribute("value") == "Typed in the admin"
    shots.take("stale form refused and kept")
    product.refresh_from_db()
    assert (product.name, product.version) == ("Renamed through the API", version_now)
    updates = AuditLog.objects.filter(object_id=str(product.pk), action=AuditAction.UPDATE)
    assert updates.count() == 1  # the API's: the refused save wrote nothing


def read_the_audit_log(
    browser: WebDriver, demo: Demo, shots: Screenshots, product: Product
) -> None:
    """Find the product's audit rows from the admin's index; open one: read-only."""
    browser.get(f"{demo.url}/admin/")
    browser.find_element(By.CSS_SELECTOR, "a[href$='/admin/core/auditlog/']").click()
    visible(browser, "#searchbar").send_keys(product.sku, Keys.ENTER)
    table = visible(browser, "#result_list").text.lower()
    for action in (AuditAction.DELETE, AuditAction.RESTORE, AuditAction.UPDATE):
        assert action.label.lower() in table
    assert not browser.find_elements(By.CSS_SELECTOR, ".object-tools a.addlink")  # no add
    shots.take("audit log of the product")
    restore = AuditLog.objects.get(object_id=str(product.pk), action=AuditAction.RESTORE)
    browser.find_element(By.CSS_SELECTOR, f"#result_list a[href*='/{restore.pk}/']").click()
    visible(browser, "#content-main")
    assert not browser.find_elements(By.NAME, "_save")  # read-only: nothing to save
    assert not browser.find_elements(By.CSS_SELECTOR, "a.deletelink")
    assert demo.admin_email in browser.find_element(By.ID, "content-main").text
    shots.take("audit row is read only")


def test_admin_trash_restore_stale_form_and_audit_log(
    browser: WebDriver, demo: Demo, shots: Screenshots
) -> None:
    """The steps in order, on one seeded product, each with its screenshots."""
    product = Product.objects.order_by("sku").first()
    assert product is not None, "the seed made no products"
    sign_in(browser, demo, shots)
    move_to_trash(browser, demo, shots, product)
    restore_from_trash(browser, demo, shots, product)
    save_a_stale_form(browser, demo, shots, product)
    read_the_audit_log(browser, demo, shots, product)
