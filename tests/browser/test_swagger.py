"""Issue 14, item 11: a frontend developer's first session in Swagger UI, in a real browser.

Open `/api/docs/`, sign in with the login operation ("Try it out"), authorize with the access
token it returned, and run the product list: the response panel shows the envelope.
"""

import json

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec

from tests.browser.conftest import Demo, Screenshots, wait

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOGIN = "/api/v1/auth/login/"
PRODUCTS = "/api/v1/catalog/products/"
SECURITY_SCHEME = "jwtAuth"


def operation(browser: WebDriver, method: str, path: str) -> WebElement:
    """The operation's block (by method and path, as Swagger UI shows them), expanded."""
    xpath = (
        f"//div[contains(concat(' ', @class, ' '), ' opblock-{method} ')]"
        f"[.//span[@data-path='{path}']]"
    )
    block = wait(browser).until(ec.presence_of_element_located((By.XPATH, xpath)))
    if "is-open" not in (block.get_attribute("class") or ""):
        control = block.find_element(By.CSS_SELECTOR, ".opblock-summary-control")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", control)
        control.click()
        wait(browser).until(lambda _: "is-open" in (block.get_attribute("class") or ""))
    return block


def try_it_out(browser: WebDriver, block: WebElement) -> None:
    """Switch the operation to its editable form."""
    button = wait(browser).until(lambda _: block.find_element(By.CSS_SELECTOR, ".try-out__btn"))
    button.click()
    wait(browser).until(lambda _: block.find_elements(By.CSS_SELECTOR, "button.execute"))


def execute(browser: WebDriver, block: WebElement) -> dict[str, object]:
    """Press Execute; the JSON body of the server's answer as the response panel shows it."""
    block.find_element(By.CSS_SELECTOR, "button.execute").click()
    body = wait(browser).until(
        lambda _: block.find_element(
            By.CSS_SELECTOR, ".live-responses-table .response-col_description .highlight-code pre"
        )
    )
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", body)
    wait(browser).until(lambda _: body.text.strip().endswith("}"))
    parsed: dict[str, object] = json.loads(body.text)
    return parsed


def type_into(field: WebElement, text: str) -> None:
    """Replace a field's text the way a user does (select all, type)."""
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.DELETE)
    field.send_keys(text)


def test_swagger_ui_signs_in_authorizes_and_lists_products_in_the_envelope(
    browser: WebDriver, demo: Demo, shots: Screenshots
) -> None:
    """Login, Authorize, then the product list: `data` and `meta` in the response panel."""
    browser.get(f"{demo.url}/api/docs/")
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".opblock")))
    assert "Enterprise API" in browser.find_element(By.CSS_SELECTOR, ".info .title").text
    shots.take("docs loaded")

    login = operation(browser, "post", LOGIN)
    try_it_out(browser, login)
    credentials = {"email": demo.admin_email, "password": demo.admin_password}
    body = login.find_element(By.CSS_SELECTOR, "textarea.body-param__text")
    type_into(body, json.dumps(credentials))
    signed_in = execute(browser, login)
    shots.take("login answered")
    assert signed_in["success"] is True
    access = signed_in["data"]["access"]  # type: ignore[index]
    assert isinstance(access, str) and access.count(".") == 2

    browser.find_element(By.CSS_SELECTOR, ".scheme-container button.authorize").click()
    modal = wait(browser).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, ".modal-ux .auth-container"))
    )
    container = next(
        box
        for box in browser.find_elements(By.CSS_SELECTOR, ".modal-ux .auth-container")
        if SECURITY_SCHEME in box.text
    )
    container.find_element(By.CSS_SELECTOR, "input").send_keys(access)
    container.find_element(By.CSS_SELECTOR, "button.authorize").click()
    wait(browser).until(lambda _: "Logout" in container.text)
    shots.take("authorized with the access token")
    assert modal.is_displayed()
    browser.find_element(By.CSS_SELECTOR, ".modal-ux button.btn-done").click()
    wait(browser).until(ec.invisibility_of_element_located((By.CSS_SELECTOR, ".modal-ux")))

    products = operation(browser, "get", PRODUCTS)
    try_it_out(browser, products)
    type_into(products.find_element(By.CSS_SELECTOR, "input[placeholder='page_size']"), "3")
    page = execute(browser, products)
    shots.take("product list in the envelope")

    assert set(page) >= {"success", "status", "message", "data", "errors", "meta"}
    assert (page["success"], page["status"]) == (True, 200)
    assert isinstance(page["data"], list) and len(page["data"]) == 3
    pagination = page["meta"]["pagination"]  # type: ignore[index]
    assert pagination["page_size"] == 3 and pagination["count"] >= 190
    curl = products.find_element(By.CSS_SELECTOR, ".curl-command").text
    assert f"Authorization: Bearer {access}" in curl  # the request went out authorized
