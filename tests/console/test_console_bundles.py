"""The console's bundles, gates and schedules, as a user drives them (headless chromium, a real
`load-manager serve`; no run is needed here, so no Locust): a test from a template, files in tabs, a
syntax error marked in its own file, binary files listed, a save, the per-file diff, zips both ways;
criteria, auto-stop and schedules with the API's 422s shown at their fields.
"""

from __future__ import annotations

import io
import re
import zipfile

import pytest
import requests
from playwright.sync_api import expect

pytestmark = pytest.mark.slow

TEST_URL = re.compile(r"/tests/([0-9a-f]{32})$")
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))  # not UTF-8: a binary file


def _panel(page, path: str):
    return page.locator(f'[data-testid="file-panel"][data-path="{path}"]')


def test_a_bundle_is_edited_in_tabs_saved_diffed_and_zipped(page, console_url, target, check_page, tmp_path):
    # A test from a template: revision 1 is its two files, entry first.
    page.goto(f"{console_url}/tests")
    page.get_by_label("Name", exact=True).fill("catalogue")
    page.get_by_label("Target URL").fill(target.url)
    page.get_by_test_id("template-select").select_option("csv-data")
    expect(page.get_by_test_id("template-preview")).to_contain_text("data/products.csv")
    check_page(page, "new test from a template")
    page.get_by_role("button", name="Create test").click()
    page.wait_for_url(TEST_URL)
    test_id = TEST_URL.search(page.url).group(1)
    tabs = page.get_by_test_id("file-tab")
    expect(tabs).to_have_count(2)
    expect(tabs.first).to_have_attribute("data-path", "locustfile.py")
    expect(tabs.first).to_have_attribute("aria-selected", "true")
    expect(page.locator(".valid")).to_contain_text("CatalogueUser")
    tabs.first.focus()  # the tabs follow the arrow keys (one tab stop for the list)
    page.keyboard.press("ArrowRight")
    expect(tabs.nth(1)).to_have_attribute("aria-selected", "true")
    expect(tabs.nth(1)).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(tabs.first).to_have_attribute("aria-selected", "true")

    # A helper module with a syntax error: marked in that file, at its line, and its tab says so.
    page.get_by_label("New file path").fill("helpers/util.py")
    page.get_by_role("button", name="Add file", exact=True).click()
    expect(tabs.last).to_have_attribute("aria-selected", "true")
    _panel(page, "helpers/util.py").locator(".cm-content").click()
    page.keyboard.type("def f(:\n")
    error = page.get_by_test_id("validation-error")
    expect(error).to_have_attribute("data-file", "helpers/util.py")
    expect(error).to_have_attribute("data-line", "1")
    expect(tabs.last).to_have_attribute("data-errors", "1")
    expect(_panel(page, "helpers/util.py").locator(".cm-lintRange-error, .cm-lintPoint-error")).to_have_count(1)
    check_page(page, "bundle editor, error in a helper")
    page.keyboard.press("Control+a")
    page.keyboard.type("def f():\n    return 1\n")
    expect(error).to_have_count(0)

    # Rename it; edit the CSV (plain text, no Python); add a binary file from this computer.
    _panel(page, "helpers/util.py").get_by_label("Path in the bundle").fill("helpers/tools.py")
    _panel(page, "helpers/util.py").get_by_role("button", name="Rename").click()
    expect(tabs.last).to_have_attribute("data-path", "helpers/tools.py")
    tabs.filter(has_text="data/products.csv").click()
    _panel(page, "data/products.csv").locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("99,SKU-0099,Kettle\n")
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    page.get_by_label("Add files from this computer").set_input_files(str(logo))
    expect(_panel(page, "logo.png").get_by_test_id("binary-file")).to_be_visible()
    expect(tabs.filter(has_text="logo.png")).to_contain_text("binary")
    page.get_by_label("What changed").fill("a helper, a kettle, a logo")
    page.get_by_test_id("save-revision").click()
    expect(page.get_by_role("status").filter(has_text="Saved as revision 2.")).to_be_visible()
    saved = requests.get(f"{console_url}/v1/load-tests/{test_id}/script/revisions/2", timeout=10).json()
    assert {f["path"]: f["binary"] for f in saved["files"]} == {
        "data/products.csv": False, "helpers/tools.py": False, "locustfile.py": False, "logo.png": True}

    _the_diff_has_one_view_per_file(page, console_url, test_id, check_page)
    _zips_both_ways(page, console_url, test_id)


def _the_diff_has_one_view_per_file(page, console_url: str, test_id: str, check_page) -> None:
    page.goto(f"{console_url}/tests/{test_id}/diff?from=1&to=2")
    files = page.get_by_test_id("diff-file")
    expect(files).to_have_count(3)
    csv = page.locator('[data-testid="diff-file"][data-path="data/products.csv"]')
    expect(csv).to_have_attribute("data-change", "modified")
    expect(csv.locator(".cm-merge-b .cm-changedLine")).to_contain_text("99,SKU-0099,Kettle")
    helper = page.locator('[data-testid="diff-file"][data-path="helpers/tools.py"]')
    expect(helper).to_have_attribute("data-change", "added")
    expect(helper.locator(".cm-merge-b")).to_contain_text("return 1")
    expect(page.locator('[data-testid="diff-file"][data-path="logo.png"]').get_by_test_id("binary-flag")).to_contain_text("not diffed")
    check_page(page, "diff of a bundle")


def _zips_both_ways(page, console_url: str, test_id: str) -> None:
    page.goto(f"{console_url}/tests/{test_id}")
    with page.expect_download() as downloaded:
        page.get_by_test_id("download-zip").click()
    with zipfile.ZipFile(downloaded.value.path()) as archive:
        assert sorted(archive.namelist()) == ["data/products.csv", "helpers/tools.py", "locustfile.py", "logo.png"]
        entry = archive.read("locustfile.py").decode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:  # the whole project again, entry changed, logo gone
        archive.writestr("project/locustfile.py", entry.replace("between(0.5, 1.5)", "between(1, 2)"))
        archive.writestr("project/data/products.csv", "id,sku,name\n1,SKU-0001,Cup\n")
    upload = page.get_by_role("form", name="Upload a zip as a new revision")
    upload.get_by_label("Zip archive").set_input_files({"name": "project.zip", "mimeType": "application/zip", "buffer": buffer.getvalue()})
    upload.get_by_label("Description of the uploaded revision").fill("from a zip")
    upload.get_by_role("button", name="Upload as a new revision").click()
    expect(page.get_by_role("status").filter(has_text="Uploaded project.zip as revision 3.")).to_be_visible()
    expect(page.get_by_test_id("file-tab")).to_have_count(2)
    expect(page.get_by_test_id("script-editor")).to_contain_text("between(1, 2)")
    expect(page.locator(".revision-line")).to_contain_text("from a zip")
    bad = page.get_by_role("form", name="Upload a zip as a new revision")
    bad.get_by_label("Zip archive").set_input_files({"name": "nope.zip", "mimeType": "application/zip", "buffer": b"not a zip"})
    bad.get_by_role("button", name="Upload as a new revision").click()
    expect(page.get_by_role("alert")).to_contain_text("InvalidArchive")  # the API's words


def test_gates_and_schedules_show_the_api_errors_at_their_fields(page, console_url, target, check_page):
    body = {"name": "gates", "targetUrl": target.url, "templateId": "http-user", "defaultDurationSeconds": 120}
    test_id = requests.post(f"{console_url}/v1/load-tests", json=body, timeout=10).json()["id"]
    page.goto(f"{console_url}/tests/{test_id}/gates")

    # A regression criterion without a baseline: BaselineRequired, at that criterion's field.
    criteria = page.get_by_test_id("criteria-form")
    criteria.get_by_role("button", name="Add a criterion").click()
    criteria.get_by_label("Kind").select_option("regression")
    criteria.get_by_label("Maximum regression (%)").fill("10")
    criteria.get_by_test_id("save-criteria").click()
    expect(criteria.locator('[data-field="criteria.0.maxRegressionPercent"]')).to_contain_text("needs a baseline run")
    expect(criteria.get_by_role("alert")).to_contain_text("BaselineRequired")

    # Auto-stop out of range: each field says what the API said of it.
    auto_stop = page.get_by_test_id("auto-stop-form")
    auto_stop.get_by_label("Failure ratio (0 to 1)").fill("2")
    auto_stop.get_by_label("Window (seconds)").fill("3")
    auto_stop.get_by_role("button", name="Save auto-stop").click()
    expect(auto_stop.locator('[data-field="autoStop.failRatio"]')).to_contain_text("less than or equal to 1")
    expect(auto_stop.locator('[data-field="autoStop.windowSeconds"]')).to_contain_text("greater than or equal to 5")

    check_page(page, "test page, gates")

    # A schedule firing more often than its run lasts; then a valid one, edited, disabled, deleted.
    page.get_by_role("tab", name="Automation").click()
    form = page.get_by_test_id("schedule-form")
    form.get_by_label("Schedule name").fill("nightly")
    form.get_by_label("Cron (minute hour day-of-month month day-of-week)").fill("* * * * *")
    form.get_by_test_id("save-schedule").click()
    expect(form.locator('[data-field="kind"]')).to_contain_text("can fire every 60 s but a run lasts 120 s")
    form.get_by_label("Cron (minute hour day-of-month month day-of-week)").fill("0 2 * * 1-5")
    form.get_by_label("Time zone (IANA)").fill("Europe/Paris")
    form.get_by_test_id("save-schedule").click()
    row = page.get_by_test_id("schedule-row")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("schedule-when")).to_contain_text("cron(0 2 ? * MON-FRI *)")
    expect(row.get_by_test_id("next-occurrences").locator("li")).to_have_count(3)
    check_page(page, "test page, a schedule")
    row.get_by_role("button", name="Edit").click()
    form.get_by_label("at a fixed rate").check()
    form.get_by_label("Every").fill("2")
    form.get_by_label("Unit").select_option("hours")
    form.get_by_test_id("save-schedule").click()
    expect(row.get_by_test_id("schedule-when")).to_contain_text("rate(2 hours)")
    row.get_by_role("button", name="Edit").click()  # the form opens on the schedule as it is
    expect(form.get_by_label("Every")).to_have_value("2")
    expect(form.get_by_label("Unit")).to_have_value("hours")
    form.get_by_test_id("save-schedule").click()  # saved unchanged
    expect(row.get_by_test_id("schedule-when")).to_contain_text("rate(2 hours)")
    row.get_by_test_id("toggle-schedule").click()
    expect(row).to_have_attribute("data-enabled", "false")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(page.get_by_test_id("schedule-row")).to_have_count(0)
    assert requests.get(f"{console_url}/v1/load-tests/{test_id}/schedules", timeout=10).json()["items"] == []
