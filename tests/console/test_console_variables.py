"""The variables and secrets page as a user drives it (headless chromium, a real `serve`): a variable
is shown with its value; a secret is saved from a password field that is emptied once sent, and the
page never holds its value again, only its name, scope and version."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

pytestmark = pytest.mark.slow

VALUE = "tok-console-5b2e8f0a"


def test_variables_and_secrets_are_set_listed_and_deleted_and_a_secret_never_shown(page, console_url, check_page):
    page.goto(f"{console_url}/variables")
    expect(page.get_by_role("heading", name="Variables and secrets")).to_be_visible()
    variables, secrets = page.get_by_test_id("variable-form"), page.get_by_test_id("secret-form")
    variables.get_by_label("Name").fill("API_HOST")
    variables.get_by_label("Value").fill("https://api.example.com")
    variables.get_by_label("Organisation id").fill("console-org")
    variables.get_by_role("button", name="Save variable").click()
    row = page.get_by_test_id("variable-row").filter(has_text="console-org")
    expect(row).to_contain_text("https://api.example.com")

    secret_value = secrets.get_by_label("Value (never shown again)")
    expect(secret_value).to_have_attribute("type", "password")
    secrets.get_by_label("Name").fill("CONSOLE_TOKEN")
    secret_value.fill(VALUE)
    secrets.get_by_role("button", name="Save secret").click()
    row = page.get_by_test_id("secret-row").filter(has_text="CONSOLE_TOKEN")
    expect(row).to_contain_text("stored")
    expect(row).to_contain_text("account-wide")
    expect(secret_value).to_have_value("")  # the value left the page once sent
    assert VALUE not in page.content()
    check_page(page, "variables and secrets")

    secrets.get_by_label("Name").fill("LOCUST_HOST")  # a name the platform sets: the API's 422, as it came
    secret_value.fill(VALUE)
    secrets.get_by_role("button", name="Save secret").click()
    expect(page.get_by_role("alert").filter(has_text="ReservedVariableName")).to_be_visible()

    page.reload()  # a fresh load: the list comes from the API, which never answers the value
    expect(page.get_by_test_id("secret-row").filter(has_text="CONSOLE_TOKEN")).to_contain_text("1")
    assert VALUE not in page.content()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("secret-row").filter(has_text="CONSOLE_TOKEN").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status").filter(has_text="Deleted the secret CONSOLE_TOKEN")).to_be_visible()
    assert all(s["name"] != "CONSOLE_TOKEN" for s in requests.get(f"{console_url}/v1/secrets", timeout=10).json()["items"])
