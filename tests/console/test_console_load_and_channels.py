"""A test's load shape (default load profile and data split, on its settings tab) and notification
channels (a test's on its automation tab, the account's and its scopes' on /notifications), as a user
drives them: values shown, edits saved and read back through the API, the API's 422s shown at their
field, write-only credentials never on the page, and no edit control for a role that may not edit.
Headless chromium, a real `load-manager serve` (its bus takes the channels' rules); no Locust runs."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect
from support.roles import with_role
from support.scripts import b64

from load_manager_local.auth import make_unsigned_jwt

pytestmark = pytest.mark.slow

SCRIPT = "from locust import HttpUser, task\n\n\nclass U(HttpUser):\n    @task\n    def index(self):\n        self.client.get('/')\n"
CSV = "user,password\nana,a1\nbo,b2\n"
PERSON = {"sub": "person-2", "email": "ch@example.com", "email_verified": "true", "custom:accountId": "local"}
SECRET = "sig-9f3c1e77a2b54d0c"  # noqa: S105 - a test value, never to appear on the page
HOOK_TOKEN = "hooktok-51c0ffee"  # part of the endpoint URL, a credential too


def _as(page, role: str | None) -> None:
    """Every later request of the tab as a person of the local tenant with that role (None: the local admin)."""
    page.set_extra_http_headers({"Authorization": f"Bearer {make_unsigned_jwt(with_role(PERSON, role))}"} if role else {})


def _create_test(url: str, name: str, **fields) -> str:
    files = [{"path": "data/users.csv", "content": b64(CSV)}, {"path": "data/orders.csv", "content": b64(CSV)}]
    body = {"name": name, "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(SCRIPT), "files": files, **fields}
    answer = requests.post(f"{url}/v1/load-tests", json=body, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def _test(url: str, test_id: str) -> dict:
    return requests.get(f"{url}/v1/load-tests/{test_id}", timeout=10).json()


def _channels(url: str, **query) -> list[dict]:
    return requests.get(f"{url}/v1/notification-channels", params=query, timeout=10).json()["items"]


def _field_error(page, field: str):
    return page.locator(f'[data-testid="field-error"][data-field="{field}"]')


def test_the_load_shape_is_shown_edited_saved_and_its_errors_are_shown_at_their_field(page, console_url, check_page):
    profile = {"stages": [{"durationSeconds": 60, "users": 10}, {"durationSeconds": 120, "users": 20, "spawnRate": 2}]}
    test_id = _create_test(console_url, "shaped", defaultLoadProfile=profile, dataSplit=["data/users.csv"])
    page.goto(f"{console_url}/tests/{test_id}/settings")
    form = page.get_by_test_id("load-shape-form")
    rows = form.get_by_test_id("stage-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(1).get_by_label("Duration (s)")).to_have_value("120")
    expect(rows.nth(1).get_by_label("Users", exact=True)).to_have_value("20")
    expect(rows.nth(1).get_by_label("Spawn rate (users/s, optional)")).to_have_value("2")
    expect(form.get_by_test_id("profile-summary")).to_contain_text("2 stages, 3 min in all, at most 20 users")
    split = form.get_by_label("CSV files split between workers (one bundle path a line)")
    expect(split).to_have_value("data/users.csv")
    expect(form.get_by_test_id("csv-files")).to_have_text("CSV files of revision 1: data/orders.csv, data/users.csv.")
    check_page(page, "load shape")

    form.get_by_test_id("add-stage").click()
    expect(rows).to_have_count(3)
    rows.nth(2).get_by_label("Duration (s)").fill("30")
    rows.nth(2).get_by_label("Users", exact=True).fill("5")
    rows.nth(0).get_by_role("button", name="Remove stage 1").click()
    split.fill("data/users.csv\ndata/orders.csv")
    form.get_by_role("button", name="Save load shape").click()
    expect(form.get_by_role("status")).to_contain_text("Load shape saved: 2 stages, 2 min 30 s in all, at most 20 users; 2 CSV file(s) split.")
    saved = _test(console_url, test_id)
    assert saved["defaultLoadProfile"] == {
        "stages": [{"durationSeconds": 120, "users": 20, "spawnRate": 2.0}, {"durationSeconds": 30, "users": 5, "spawnRate": None}]
    }
    assert saved["dataSplit"] == ["data/users.csv", "data/orders.csv"]

    # A bad stage: the API's message at that very field, and nothing changed.
    rows.nth(1).get_by_label("Duration (s)").fill("0")
    form.get_by_role("button", name="Save load shape").click()
    expect(_field_error(page, "defaultLoadProfile.stages.1.durationSeconds")).to_have_text("Input should be greater than or equal to 1")
    expect(rows.nth(1).get_by_label("Duration (s)")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_role("alert")).to_contain_text("ValidationError")
    rows.nth(1).get_by_label("Duration (s)").fill("30")
    split.fill("data/users.csv\ndata/missing.csv")  # a path the bundle does not have: the API's domain 422, at the field
    form.get_by_role("button", name="Save load shape").click()
    expect(_field_error(page, "dataSplit")).to_contain_text("'data/missing.csv' is not a file of the latest revision")
    check_page(page, "load shape with field errors")
    assert _test(console_url, test_id)["dataSplit"] == ["data/users.csv", "data/orders.csv"]

    form.get_by_test_id("clear-profile").click()
    expect(form.get_by_role("status")).to_contain_text("Profile cleared")
    expect(rows).to_have_count(0)
    assert _test(console_url, test_id)["defaultLoadProfile"] is None

    # Constant defaults and a profile exclude each other: saving stages clears them, and says so first.
    assert requests.patch(f"{console_url}/v1/load-tests/{test_id}", json={"defaultUsers": 7}, timeout=10).status_code == 200
    page.reload()
    expect(page.get_by_label("Default users", exact=True)).to_have_value("7")
    form.get_by_test_id("add-stage").click()
    expect(form.get_by_test_id("clears-constants")).to_contain_text("clears the constant default users")
    split.fill("")
    form.get_by_role("button", name="Save load shape").click()
    expect(form.get_by_role("status")).to_contain_text("1 stage, 1 min in all, at most 10 users; no data split.")
    expect(page.get_by_label("Default users", exact=True)).to_have_value("")
    saved = _test(console_url, test_id)
    assert saved["defaultUsers"] is None and saved["dataSplit"] == []
    assert saved["defaultLoadProfile"] == {"stages": [{"durationSeconds": 60, "users": 10, "spawnRate": None}]}


def test_a_tests_channels_are_created_edited_disabled_and_deleted_and_their_credentials_never_shown(page, console_url, check_page):
    test_id = _create_test(console_url, "announced")
    page.goto(f"{console_url}/tests/{test_id}/automation")
    channels = page.get_by_test_id("channels")
    expect(channels.get_by_test_id("channels-list")).to_contain_text("No channel")
    channels.get_by_text("New notification channel").click()  # behind its title, below triggers and schedules
    form = channels.get_by_test_id("channel-form")
    form.get_by_label("Channel name").fill("release bot")
    form.get_by_label("Kind").select_option("webhook")
    form.get_by_label("Endpoint URL (never shown again)").fill(f"http://127.0.0.1:9/hooks/{HOOK_TOKEN}")
    form.get_by_role("button", name="Create channel").click()  # no signing secret: the API's 422, at its field
    expect(_field_error(page, "signingSecret")).to_contain_text("a webhook channel needs a signingSecret")
    form.get_by_label("Signing secret (16 to 256 characters, never shown again)").fill(SECRET)
    form.get_by_label("Auth header name (optional)").fill("Authorization")
    form.get_by_label("Auth header value (never shown again)").fill(f"Bearer {HOOK_TOKEN}")
    form.get_by_label("Announce").select_option("statusChange")
    form.get_by_role("button", name="Create channel").click()

    row = channels.get_by_test_id("channel-row").filter(has_text="release bot")
    expect(row).to_contain_text("127.0.0.1")
    expect(row).to_contain_text("signed (secret set), header Authorization")
    expect(row.get_by_test_id("channel-filter")).to_have_text("runs whose verdict changed")
    expect(form.get_by_label("Channel name")).to_have_value("")  # the form was emptied once sent
    [created] = _channels(console_url, testId=test_id)
    assert created["kind"] == "webhook" and created["filter"] == "statusChange" and created["signingSecretSet"]
    check_page(page, "a test's channels")
    assert SECRET not in page.content() and HOOK_TOKEN not in page.content()

    row.get_by_test_id("edit-channel").click()
    edit = channels.get_by_role("form", name='Edit the channel "release bot"')
    expect(edit.get_by_label("Channel name")).to_have_value("release bot")
    expect(edit.get_by_label("Announce")).to_have_value("statusChange")  # as it is: an edit of the name alone changes nothing else
    expect(edit.get_by_label("New endpoint URL (empty: unchanged, host 127.0.0.1)")).to_have_value("")
    edit.get_by_label("New endpoint URL (empty: unchanged, host 127.0.0.1)").fill("ftp://nowhere")
    edit.get_by_role("button", name="Save channel").click()
    expect(_field_error(page, "url")).to_contain_text("String should match pattern")
    edit.get_by_label("New endpoint URL (empty: unchanged, host 127.0.0.1)").fill("")
    edit.get_by_label("Channel name").fill("release bot, all runs")
    edit.get_by_label("Announce").select_option("all")
    edit.get_by_role("button", name="Save channel").click()
    expect(channels.get_by_role("status")).to_have_text('Channel "release bot, all runs" saved.')
    row = channels.get_by_test_id("channel-row").filter(has_text="release bot, all runs")
    expect(row.get_by_test_id("channel-filter")).to_have_text("every run that ends")
    [edited] = _channels(console_url, testId=test_id)
    assert (edited["name"], edited["filter"], edited["signingSecretSet"]) == ("release bot, all runs", "all", True)

    row.get_by_test_id("toggle-channel").click()
    expect(row).to_have_attribute("data-enabled", "false")
    assert _channels(console_url, testId=test_id)[0]["enabled"] is False
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_test_id("delete-channel").click()
    expect(channels.get_by_role("status")).to_have_text('Channel "release bot, all runs" deleted.')
    expect(channels.get_by_test_id("channel-row")).to_have_count(0)
    assert _channels(console_url, testId=test_id) == []


def test_account_channels_have_their_page_and_roles_below_the_needed_one_see_no_edit_control(page, console_url, check_page):
    test_id = _create_test(console_url, "watched", defaultLoadProfile={"stages": [{"durationSeconds": 60, "users": 3}]})
    test_channel = {"name": "checkout team", "kind": "slack", "testId": test_id, "url": f"http://127.0.0.1:9/services/{HOOK_TOKEN}"}
    assert requests.post(f"{console_url}/v1/notification-channels", json=test_channel, timeout=10).status_code == 201

    page.goto(f"{console_url}/tests")
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Notifications").click()
    expect(page).to_have_url(f"{console_url}/notifications")
    channels = page.get_by_test_id("channels")
    expect(channels.get_by_test_id("channels-list")).to_be_visible()  # loaded: the form panel is open or closed for good
    form = channels.get_by_test_id("channel-form")
    if not form.is_visible():  # the panel opens by itself only while the account has no channel
        channels.get_by_text("New notification channel").click()
    form.get_by_label("Channel name").fill("shop on-call")
    form.get_by_label("Kind").select_option("teams")
    form.get_by_label("Endpoint URL (never shown again)").fill(f"http://127.0.0.1:9/teams/{HOOK_TOKEN}")
    form.get_by_label("Organisation id").fill("shop")
    form.get_by_label("Environment id").fill("prod")  # without a project: the API's scope rule, at the field
    form.get_by_role("button", name="Create channel").click()
    expect(_field_error(page, "orgId")).to_contain_text("scopes nest org -> project -> env")
    form.get_by_label("Environment id").fill("")
    form.get_by_role("button", name="Create channel").click()
    row = channels.get_by_test_id("channel-row").filter(has_text="shop on-call")
    expect(row).to_contain_text("org shop")
    expect(row).to_contain_text("Microsoft Teams")
    expect(channels.get_by_test_id("channel-row").filter(has_text="checkout team")).to_have_count(0)  # a test's own: linked below
    channels.get_by_test_id("test-channels").locator("summary").click()
    expect(channels.get_by_test_id("test-channels").get_by_role("link", name=f"test {test_id[:8]}")).to_have_attribute(
        "href", f"/tests/{test_id}/automation"
    )
    assert [c["orgId"] for c in _channels(console_url) if c["name"] == "shop on-call"] == ["shop"]
    check_page(page, "account channels")
    assert HOOK_TOKEN not in page.content()

    _as(page, "editor")  # a test's channels are its editors'; a scope's stay the admins'
    page.reload()
    expect(row).to_be_visible()
    expect(row.get_by_role("button")).to_have_count(0)
    expect(channels.get_by_test_id("channel-form")).to_have_count(0)

    _as(page, "viewer")
    page.goto(f"{console_url}/tests/{test_id}/automation")
    test_row = page.get_by_test_id("channel-row").filter(has_text="checkout team")
    expect(test_row).to_contain_text("Slack")
    expect(test_row.get_by_role("button")).to_have_count(0)
    expect(page.get_by_test_id("channel-form")).to_have_count(0)
    page.get_by_role("tab", name="Settings").click()
    shape = page.get_by_test_id("load-shape-form")
    expect(shape.get_by_test_id("stage-row").get_by_label("Users", exact=True)).to_have_value("3")
    expect(shape.get_by_test_id("stage-row").get_by_label("Users", exact=True)).to_be_disabled()
    expect(shape.get_by_label("CSV files split between workers (one bundle path a line)")).to_be_disabled()
    expect(shape.get_by_role("button")).to_have_count(0)
    check_page(page, "load shape as a viewer")
    page.goto(f"{console_url}/notifications")
    expect(page.get_by_test_id("channel-row").filter(has_text="shop on-call")).to_be_visible()
    expect(page.get_by_test_id("channels").get_by_role("button")).to_have_count(0)

    _as(page, None)  # the admin deletes the account's channel
    page.reload()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("channel-row").filter(has_text="shop on-call").get_by_test_id("delete-channel").click()
    expect(page.get_by_test_id("channel-row").filter(has_text="shop on-call")).to_have_count(0)
    assert all(c["name"] != "shop on-call" for c in _channels(console_url))
