"""A test's page in tabs, each its own URL (script and files, gates, automation, settings, beside its
history, runs and trends): loaded directly, from the old `#automation` anchor, and from the
keyboard; and a trigger edited, disabled and enabled again in the automation tab (PATCH).
Headless chromium, a real `load-manager serve`; every page screenshotted and checked with axe-core."""

from __future__ import annotations

import boto3
import pytest
import requests
from playwright.sync_api import expect
from support.scripts import b64

from load_manager_local.aws import BUS_NAME

pytestmark = pytest.mark.slow

SCRIPT = """from locust import HttpUser, task


class WebsiteUser(HttpUser):
    @task
    def index(self):
        self.client.get("/")
"""
WIDE = {"width": 1400, "height": 900}
ONE_LONG_PAGE_PX = 4364  # the test page before it had tabs, at 1,400 px wide
TABS = {  # each tab's URL suffix, and what only that tab shows
    "script": "script-editor",
    "gates": "criteria-form",
    "automation": "triggers",
    "settings": "delete-test",
}


def _create(url: str, target_url: str, name: str) -> str:
    body = {"name": name, "targetUrl": target_url, "scriptContent": b64(SCRIPT)}
    response = requests.post(f"{url}/v1/load-tests", json=body, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _trigger(url: str, test_id: str, name: str = "on request") -> dict:
    pattern = {"source": ["load-manager"], "detail-type": ["RunRequested"], "detail": {"loadTestId": [test_id]}}
    body = {"name": name, "eventPattern": pattern, "runSettings": {"durationSeconds": 3}}
    response = requests.post(f"{url}/v1/load-tests/{test_id}/triggers", json=body, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def _selected(page) -> str:
    return page.get_by_test_id("test-panel").get_attribute("data-tab")


def _expect_focused(page, element_id: str) -> None:
    # Awaited: the console moves the focus in an effect, which may run just after what it shows is visible.
    expect(page.locator(f"#{element_id}")).to_be_focused()


def _expect_selected(page, tab: str) -> None:
    expect(page.get_by_test_id("test-panel")).to_have_attribute("data-tab", tab)


def test_each_tab_loads_from_its_own_url_and_the_tallest_is_a_fraction_of_the_old_page(page, console_url, target, check_page, capsys):
    test_id = _create(console_url, target.url, "tabs")
    _trigger(console_url, test_id)
    page.set_viewport_size(WIDE)
    heights = {}
    for tab, only_here in TABS.items():
        page.goto(f"{console_url}/tests/{test_id}/{tab}")  # a fresh load, straight to the tab
        expect(page.get_by_role("tab", name=tab.capitalize())).to_have_attribute("aria-selected", "true")
        expect(page.get_by_test_id(only_here)).to_be_visible()
        for other, elsewhere in TABS.items():
            if other != tab:
                expect(page.get_by_test_id(elsewhere)).to_have_count(0)  # a tab's content loads on its first visit
        if tab == "script":
            expect(page.locator(".valid")).to_contain_text("WebsiteUser")
        if tab == "automation":
            expect(page.get_by_test_id("trigger-row")).to_have_count(1)
            expect(page.get_by_test_id("schedule-form")).to_be_visible()
        page.wait_for_load_state("networkidle")
        heights[tab] = page.evaluate("document.documentElement.scrollHeight")
        check_page(page, f"test page, {tab} tab, 1400 wide")
    tallest = max(heights, key=heights.get)
    with capsys.disabled():
        print(f"\ntest page tabs at 1400 px wide, page height in px: {heights}; tallest: {tallest} {heights[tallest]} (one page before: {ONE_LONG_PAGE_PX})")
    assert heights[tallest] < ONE_LONG_PAGE_PX / 2, heights  # with a trigger; its form, and the schedule's, behind their titles

    page.goto(f"{console_url}/tests/{test_id}")  # the test's own URL opens the script tab
    assert _selected(page) == "script"
    expect(page.get_by_test_id("script-editor")).to_be_visible()
    page.goto(f"{console_url}/tests/{test_id}#automation")  # where links pointed before the tabs
    expect(page).to_have_url(f"{console_url}/tests/{test_id}/automation")
    expect(page.get_by_test_id("trigger-row")).to_have_count(1)


def test_the_tabs_work_from_the_keyboard_and_keep_unsaved_edits(page, console_url, target):
    test_id = _create(console_url, target.url, "keys")
    page.goto(f"{console_url}/tests/{test_id}")
    expect(page.locator(".valid")).to_be_visible()
    tablist = page.get_by_role("tablist", name="Test pages")
    expect(tablist.get_by_role("tab")).to_have_count(7)
    page.get_by_role("tab", name="Script").focus()
    page.keyboard.press("ArrowRight")
    _expect_focused(page, "test-tab-history")  # focus moves; nothing opens yet
    _expect_selected(page, "script")
    page.keyboard.press("End")
    _expect_focused(page, "test-tab-settings")
    page.keyboard.press("Home")
    page.keyboard.press("ArrowLeft")  # wraps around
    _expect_focused(page, "test-tab-settings")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    _expect_focused(page, "test-tab-gates")
    page.keyboard.press("Enter")  # opens it: another URL, the same page, the focus stays on the tab
    expect(page).to_have_url(f"{console_url}/tests/{test_id}/gates")
    expect(page.get_by_test_id("criteria-form")).to_be_visible()
    _expect_focused(page, "test-tab-gates")
    _expect_selected(page, "gates")
    assert page.get_by_role("tab", name="Gates").get_attribute("tabindex") == "0"
    assert page.get_by_role("tab", name="Script").get_attribute("tabindex") == "-1"  # one tab stop for the whole list

    # An edit of the script survives a visit to another tab (and back, with the browser's button).
    page.get_by_role("tab", name="Script").click()
    page.locator(".cm-content .cm-line").last.click()
    page.keyboard.press("End")
    page.keyboard.type("  # edited")
    expect(page.locator(".revision-line")).to_contain_text("unsaved changes")
    page.get_by_role("tab", name="Settings").click()
    expect(page.get_by_role("button", name="Delete this test")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(f"{console_url}/tests/{test_id}")
    expect(page.get_by_test_id("script-editor")).to_contain_text("# edited")
    expect(page.locator(".revision-line")).to_contain_text("unsaved changes")

    # A tab that is a page of its own (Runs) opens from the keyboard too, and keeps the focus.
    page.get_by_role("tab", name="Script").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press(" ")
    expect(page).to_have_url(f"{console_url}/tests/{test_id}/runs")
    expect(page.get_by_test_id("start-run")).to_be_visible()
    _expect_focused(page, "test-tab-runs")


def _rule_state(console_url: str, rule_name: str) -> str:
    events = boto3.client("events", endpoint_url=f"{console_url}/aws", region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local")
    return events.describe_rule(Name=rule_name, EventBusName=BUS_NAME)["State"]


def test_a_trigger_is_edited_disabled_and_enabled_again_in_the_automation_tab(page, console_url, target, check_page):
    test_id = _create(console_url, target.url, "edit a trigger")
    trigger = _trigger(console_url, test_id, name="nightly smoke")
    url = f"{console_url}/v1/load-tests/{test_id}/triggers/{trigger['id']}"
    page.goto(f"{console_url}/tests/{test_id}/automation")
    row = page.get_by_test_id("trigger-row")
    expect(row).to_have_attribute("data-enabled", "true")
    row.get_by_test_id("edit-trigger").click()
    form = page.get_by_test_id("trigger-form")
    expect(page.get_by_test_id("trigger-form-panel").locator("summary")).to_have_text('Edit the trigger "nightly smoke"')
    expect(form.get_by_label("Trigger name")).to_be_focused()  # the form comes to the user
    expect(form.get_by_label("Duration (s)")).to_have_value("3")
    form.get_by_label("Event pattern (JSON)").fill('{"source": "load-manager"}')  # not arrays: the API's 422, at the field
    form.get_by_test_id("save-trigger").click()
    expect(form.locator('[data-testid="field-error"][data-field="eventPattern"]')).to_be_visible()
    check_page(page, "automation tab, a trigger edit refused")
    assert requests.get(url, timeout=10).json() == trigger  # nothing changed

    form.get_by_role("button", name="Cancel").click()
    row.get_by_test_id("edit-trigger").click()
    form.get_by_label("Trigger name").fill("nightly smoke, 4 users")
    form.get_by_label("Users", exact=True).fill("4")
    form.get_by_test_id("save-trigger").click()
    expect(page.get_by_role("status").filter(has_text='Trigger "nightly smoke, 4 users" saved')).to_be_visible()
    expect(row).to_contain_text("nightly smoke, 4 users")
    saved = requests.get(url, timeout=10).json()
    assert saved["name"] == "nightly smoke, 4 users" and saved["runSettings"]["targetUsers"] == 4
    assert saved["runSettings"]["durationSeconds"] == 3 and saved["eventPattern"] == trigger["eventPattern"]  # the rest as it was
    assert saved["updatedBy"] == "local@localhost"

    row.get_by_test_id("toggle-trigger").click()
    expect(row).to_have_attribute("data-enabled", "false")
    assert requests.get(url, timeout=10).json()["enabled"] is False
    assert _rule_state(console_url, trigger["ruleName"]) == "DISABLED"
    check_page(page, "automation tab, a disabled trigger")
    row.get_by_test_id("toggle-trigger").click()
    expect(row).to_have_attribute("data-enabled", "true")
    assert _rule_state(console_url, trigger["ruleName"]) == "ENABLED"
