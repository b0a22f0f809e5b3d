"""The console as a user drives it: headless chromium, a real `load-manager serve`, a real target.

Every page visited is screenshotted and checked with axe-core (no serious or critical violation).
"""

from __future__ import annotations

import base64
import json
import re
import time
from urllib.parse import urlsplit

import boto3
import pytest
import requests
from playwright.sync_api import expect
from support.scripts import b64

from load_manager_local.aws import BUS_NAME

pytestmark = pytest.mark.slow

# Not ASCII on purpose: scripts travel as base64 of UTF-8, and must round-trip through the browser.
SCRIPT = """from locust import HttpUser, task, between


class WebsiteUser(HttpUser):  # café ☕
    wait_time = between(0.05, 0.1)

    @task
    def index(self):
        self.client.get("/")
"""
TEST_URL = re.compile(r"/tests/([0-9a-f]{32})$")
RUN_URL = re.compile(r"/runs/([0-9a-f]{32})$")


def _create_test(url: str, target_url: str, name: str = "api-made") -> str:
    body = {"name": name, "targetUrl": target_url, "scriptContent": b64(SCRIPT)}
    response = requests.post(f"{url}/v1/load-tests", json=body, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _go_to_end_of_line(page, number: int) -> None:
    page.locator(".cm-content .cm-line").nth(number - 1).click()
    page.keyboard.press("End")


def test_script_workflow_create_validate_save_diff_rollback(page, console_url, target, check_page):
    # 1. create a test from the list page
    page.goto(f"{console_url}/tests")
    expect(page.get_by_test_id("tests-list")).to_be_visible()
    check_page(page, "tests list, empty")
    page.get_by_label("Name", exact=True).fill("checkout")
    page.get_by_label("Target URL").fill(target.url)
    page.get_by_label("Locust script").fill(SCRIPT)
    page.get_by_role("button", name="Create test").click()
    page.wait_for_url(TEST_URL)
    test_id = TEST_URL.search(page.url).group(1)
    expect(page.get_by_text("Revision 1", exact=True)).to_be_visible()
    expect(page.locator(".valid")).to_contain_text("WebsiteUser")
    check_page(page, "script editor")

    # 2. a syntax error, marked at its line as we type: line 8 loses its colon
    _go_to_end_of_line(page, 8)
    page.keyboard.press("Backspace")
    error = page.get_by_test_id("validation-error")
    expect(error).to_have_attribute("data-line", "8")
    expect(error).to_contain_text("Line 8")
    expect(page.locator(".cm-line").nth(7).locator(".cm-lintRange-error, .cm-lintPoint-error")).to_have_count(1)
    expect(page.locator(".cm-gutter-lint .cm-lint-marker-error")).to_have_count(1)
    check_page(page, "script editor, syntax error")

    # 3. fix it, add a request, save revision 2
    page.keyboard.type(":")
    expect(error).to_have_count(0)
    _go_to_end_of_line(page, 9)
    page.keyboard.press("Enter")
    page.keyboard.type('self.client.get("/items")')  # the editor keeps the indentation
    page.get_by_label("What changed").fill("also browse the catalogue")
    page.get_by_test_id("save-revision").click()
    expect(page.get_by_role("status").filter(has_text="Saved as revision 2.")).to_be_visible()
    expect(page.locator(".revision-line")).to_contain_text("Revision 2 (latest)")

    # 4. the history lists both; the diff of 1 and 2 shows the added line
    page.get_by_role("tab", name="History").click()
    rows = page.get_by_test_id("revision-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("also browse the catalogue")
    check_page(page, "history")
    page.get_by_role("link", name="Changes in revision 2").click()
    page.wait_for_url(re.compile(r"/diff\?from=1&to=2$"))
    changed = page.get_by_test_id("diff-view").locator(".cm-merge-b .cm-changedLine")
    expect(changed).to_have_count(1)
    expect(changed).to_contain_text('self.client.get("/items")')
    check_page(page, "diff 1 to 2")

    # 5. back to the history (the browser's back button), roll back to revision 1
    page.go_back()
    expect(page.get_by_test_id("revision-history")).to_be_visible()
    page.get_by_test_id("rollback").filter(has_text="revision 1").click()
    expect(page.get_by_role("status").filter(has_text="Revision 3 restores revision 1.")).to_be_visible()
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("restores revision 1")
    latest = requests.get(f"{console_url}/v1/load-tests/{test_id}/script", timeout=10).json()
    assert latest["revisionNumber"] == 3
    assert base64.b64decode(latest["scriptContent"]).decode() == SCRIPT


# Records every value `run-status` and the RPS chart's point count take, from the first paint on.
# Installed before the page loads: a reload would lose it, so it also proves there was none.
WATCH_RUN = """
window.__watch = { statuses: [], points: [] };
new MutationObserver(() => {
  const status = document.querySelector('[data-testid="run-status"]')?.textContent;
  const points = document.querySelector('[data-testid="chart-rps"]')?.dataset.points;
  const w = window.__watch;
  if (status && w.statuses.at(-1) !== status) w.statuses.push(status);
  if (points !== undefined && w.points.at(-1)?.[1] !== Number(points)) w.points.push([status, Number(points)]);
}).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
"""


def test_run_starts_and_updates_live_until_finished(page, console_url, target, check_page):
    """The issue's steps 6 and 7, with results and a trigger: run 1 watched live, made the baseline;
    criteria set (a 422 shown at its field); an event trigger created in the page starts run 2 of
    revision 2; both compared; the trends page shows both, labelled by revision."""
    test_id = _create_test(console_url, target.url)
    page.add_init_script(WATCH_RUN)
    page.goto(f"{console_url}/tests/{test_id}/runs")
    check_page(page, "runs, none yet")
    page.get_by_label("Users", exact=True).fill("3")
    page.get_by_label("Spawn rate (users/s)").fill("3")
    # 10 s of load: the page (a poll every 2 s, slower on a loaded machine) sees its chart grow while Running.
    page.get_by_label("Duration (s)").fill("10")
    page.get_by_test_id("start-run").click()
    page.wait_for_url(RUN_URL)
    run_id = RUN_URL.search(page.url).group(1)

    expect(page.get_by_test_id("run-status")).to_have_text("Running", timeout=90_000)
    expect(page.get_by_test_id("stop-run")).to_be_enabled()
    check_page(page, "run, running")
    expect(page.get_by_test_id("run-status")).to_have_text("Finished", timeout=90_000)
    watched = page.evaluate("window.__watch")

    # In lifecycle order, never back; Starting may last less than the page's poll, so it may be unseen.
    statuses = [s for s in watched["statuses"] if s in ("Starting", "Running", "Finished")]
    assert statuses in (["Starting", "Running", "Finished"], ["Running", "Finished"]), watched
    running_points = [points for status, points in watched["points"] if status == "Running"]
    assert len(set(running_points)) >= 2 and running_points == sorted(running_points), watched
    _the_finished_run_page_shows_its_results(page, console_url, test_id, run_id)
    assert int(page.get_by_test_id("chart-rps").get_attribute("data-points")) >= running_points[-1]
    assert target.total_requests() > 0
    check_page(page, "run, finished")
    page.get_by_test_id("make-baseline").click()
    expect(page.get_by_test_id("is-baseline")).to_be_visible()
    _first_load_of_a_run_page_is_small(page, f"{console_url}/runs/{run_id}")

    _criteria_are_set_on_the_test_page(page, console_url, test_id, check_page)
    second = _a_trigger_made_in_the_page_starts_run_2(page, console_url, test_id, check_page)
    _two_runs_compared_and_the_trends(page, console_url, test_id, run_id, second, check_page)
    _the_tests_list_shows_the_last_run_from_one_request(page, console_url, test_id, second, check_page)


def _the_finished_run_page_shows_its_results(page, console_url: str, test_id: str, run_id: str) -> None:
    stats = requests.get(f"{console_url}/v1/runs/{run_id}/stats", timeout=10).json()
    table = page.get_by_test_id("endpoint-table")
    row = stats["endpoints"][0]
    shown = table.locator(f'tr[data-endpoint="{row["method"]} {row["name"]}"]')
    expect(shown.locator('td[data-column="requests"]')).to_have_text(str(row["requests"]))  # the API's figures, as they are
    expect(shown.locator('td[data-column="p95Ms"]')).to_have_text(f"{row['p95Ms']:.0f} ms")
    expect(page.get_by_test_id("chart-points-note")).to_contain_text("highest")  # what a downsampled point is
    expect(page.get_by_test_id("table-percentiles-note")).to_contain_text("cumulative")
    expect(page.get_by_test_id("criteria-results")).to_contain_text("No criteria")
    expect(page.get_by_test_id("run-origin")).to_have_attribute("data-origin", "api")
    expect(page.get_by_test_id("run-origin")).to_contain_text("local@localhost")
    expect(page.get_by_test_id("run-usage")).to_contain_text("vCPU-hours")  # what its processes used, recorded with its end
    links = page.get_by_test_id("report-links")
    report = requests.get(links.get_by_role("link", name="Results report").get_attribute("href"), timeout=10)
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert requests.get(links.get_by_role("link", name="Locust's report").get_attribute("href"), timeout=10).status_code == 200
    expect(page.get_by_role("link", name="Revision 1")).to_have_attribute("href", f"/tests/{test_id}?revision=1")


def _criteria_are_set_on_the_test_page(page, console_url: str, test_id: str, check_page) -> None:
    page.goto(f"{console_url}/tests/{test_id}/gates")
    form = page.get_by_test_id("criteria-form")
    form.get_by_role("button", name="Add a criterion").click()
    form.get_by_label("Threshold (ms)").fill("5000")
    form.get_by_label("Endpoint (optional)").fill("no-method")  # malformed: the API's 422 names this field
    form.get_by_test_id("save-criteria").click()
    error = form.locator('[data-testid="field-error"][data-field="criteria.0.endpoint"]')
    expect(error).to_contain_text("should match pattern")
    expect(form.get_by_label("Endpoint (optional)")).to_have_attribute("aria-invalid", "true")
    check_page(page, "test page, criteria with an API error")
    form.get_by_label("Endpoint (optional)").fill("")
    form.get_by_role("button", name="Add a criterion").click()
    form.get_by_label("Kind").nth(1).select_option("regression")
    form.get_by_label("Maximum regression (%)").fill("1000")
    form.get_by_test_id("save-criteria").click()
    expect(form.get_by_role("status")).to_contain_text("Criteria saved")
    assert len(requests.get(f"{console_url}/v1/load-tests/{test_id}", timeout=10).json()["criteria"]) == 2


def _a_trigger_made_in_the_page_starts_run_2(page, console_url: str, test_id: str, check_page) -> str:
    edited = SCRIPT.replace('"/"', '"/items"')  # revision 2: the trends show where it changed
    requests.put(f"{console_url}/v1/load-tests/{test_id}/script", json={"scriptContent": b64(edited)}, timeout=10).raise_for_status()
    page.get_by_role("tab", name="Automation").click()  # the same page, another tab: no reload
    expect(page).to_have_url(f"{console_url}/tests/{test_id}/automation")
    form = page.get_by_test_id("trigger-form")
    form.get_by_label("Trigger name").fill("on request")  # the pattern is prefilled: RunRequested naming this test
    form.get_by_label("Users", exact=True).fill("2")
    form.get_by_label("Duration (s)").fill("3")
    form.get_by_test_id("create-trigger").click()
    expect(page.get_by_test_id("trigger-row")).to_contain_text("lm-trigger-")
    events = boto3.client("events", endpoint_url=f"{console_url}/aws", region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local")
    detail = json.dumps({"loadTestId": test_id, "accountId": "local", "requestId": "console-test"})  # its tenant: the rule requires it
    events.put_events(Entries=[{"EventBusName": BUS_NAME, "Source": "load-manager", "DetailType": "RunRequested", "Detail": detail}])
    page.get_by_role("button", name="Refresh triggers").click()
    firing = page.get_by_test_id("trigger-firings").locator('tr[data-outcome="started"]')
    deadline = time.monotonic() + 60  # the bus delivers asynchronously, and the firing starts a run first
    while not firing.count() and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        page.get_by_role("button", name="Refresh triggers").click()
    expect(firing).to_have_count(1)
    check_page(page, "test page, a trigger that fired")
    firing.get_by_role("link").click()
    page.wait_for_url(RUN_URL)
    expect(page.get_by_test_id("run-origin")).to_have_attribute("data-origin", "event")
    expect(page.get_by_test_id("run-origin")).to_contain_text("RunRequested")
    expect(page.get_by_test_id("run-status")).to_have_text("Finished", timeout=90_000)
    expect(page.get_by_test_id("criterion-result")).to_have_count(2)  # judged against the baseline: run 1
    expect(page.get_by_test_id("criteria-results")).to_contain_text("worse than the baseline")
    return RUN_URL.search(page.url).group(1)


def _two_runs_compared_and_the_trends(page, console_url: str, test_id: str, first: str, second: str, check_page) -> None:
    page.goto(f"{console_url}/tests/{test_id}/runs")
    expect(page.get_by_test_id("run-row")).to_have_count(2)
    expect(page.get_by_test_id("compare-selected")).to_be_disabled()
    for pick in page.get_by_test_id("pick-run").all():
        pick.check()
    page.get_by_test_id("compare-selected").click()
    expect(page).to_have_url(f"{console_url}/runs/compare?base={first}&target={second}")
    view = page.get_by_test_id("compare-view")
    expect(view).to_have_attribute("data-same-revision", "false")
    expect(page.get_by_test_id("compare-overall").locator('tr[data-metric="p95Ms"]')).to_be_visible()
    expect(page.get_by_test_id("only-in-base")).to_contain_text("GET /")  # revision 2 requests /items instead
    expect(page.get_by_test_id("only-in-target")).to_contain_text("GET /items")
    expect(page.get_by_test_id("compare-diff").locator(".diff-add", has_text='self.client.get("/items")')).to_have_count(1)
    expect(page.get_by_test_id("compare-chart-rps")).not_to_have_attribute("data-points", "0")
    expect(page.get_by_test_id("target-criteria").get_by_test_id("criterion-result")).to_have_count(2)
    check_page(page, "compare two runs")
    page.get_by_role("link", name="runs", exact=True).click()
    page.get_by_role("tab", name="Trends").click()
    chart = page.get_by_test_id("trend-chart")
    expect(chart).to_have_attribute("data-points", "2")
    expect(chart).to_have_attribute("data-revisions", "1,2")
    expect(page.get_by_test_id("trend-row").first).to_have_attribute("data-revision", "2")
    check_page(page, "trends")
    page.go_back()
    expect(page.get_by_test_id("runs-list")).to_be_visible()


def _the_tests_list_shows_the_last_run_from_one_request(page, console_url: str, test_id: str, last: str, check_page) -> None:
    asked: list[str] = []
    page.on("request", lambda request: asked.append(urlsplit(request.url).path))
    page.goto(f"{console_url}/tests")
    row = page.get_by_test_id("test-row").filter(has=page.locator(f'a[href="/tests/{test_id}"]'))
    expect(row).to_have_attribute("data-last-run", last)
    summary = requests.get(f"{console_url}/v1/runs/{last}", timeout=10).json()["summary"]
    expect(row.get_by_test_id("last-run")).to_have_attribute("data-status", "Finished")
    expect(row.get_by_test_id("last-run-p95")).to_have_text(f"{summary['p95Ms']:,.0f} ms")  # the API's figure, as it is
    expect(row.get_by_test_id("trend-sparkline")).to_have_attribute("data-points", "2")  # both Finished runs
    check_page(page, "tests list with last runs")
    page.wait_for_load_state("networkidle")
    api = [path for path in asked if path.startswith("/v1/")]
    # One request for the page (and the form's templates, and who is calling: asked once at start).
    assert sorted(api) == ["/v1/load-tests", "/v1/me", "/v1/script-templates"], api


# The bench target: ≤ 0.25 × the ~400 KB of gzipped JavaScript that Locust's own UI ships.
RUN_PAGE_BUDGET_BYTES = 100_000


def _first_load_of_a_run_page_is_small(page, url: str) -> None:
    cdp = page.context.new_cdp_session(page)  # a first load: nothing from the browser's cache
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    loaded: list[tuple[str, int]] = []
    page.on("requestfinished", lambda request: loaded.append((request.url, request.sizes()["responseBodySize"])))
    page.goto(url)
    expect(page.get_by_test_id("endpoint-table")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert not [u for u, _ in loaded if "codemirror" in u], loaded
    shipped = sum(size for u, size in loaded if "/v1/" not in u)
    assert 0 < shipped <= RUN_PAGE_BUDGET_BYTES, loaded


def test_a_run_can_be_stopped(page, console_url, target):
    test_id = _create_test(console_url, target.url, name="long")
    body = {"targetUsers": 1, "spawnRate": 1, "durationSeconds": 120}
    run_id = requests.post(f"{console_url}/v1/load-tests/{test_id}/runs", json=body, timeout=30).json()["id"]
    page.goto(f"{console_url}/runs/{run_id}")
    expect(page.get_by_test_id("run-status")).to_have_text("Running", timeout=90_000)
    page.get_by_test_id("stop-run").click()
    expect(page.get_by_test_id("run-status")).to_have_text("Cancelled", timeout=90_000)
    expect(page.get_by_test_id("stop-run")).to_have_count(0)
    expect(page.get_by_test_id("status-timeline")).to_contain_text("local@localhost")  # who stopped it


def test_the_editor_page_works_from_the_keyboard(page, console_url, target):
    test_id = _create_test(console_url, target.url, name="keyboard")
    page.goto(f"{console_url}/tests/{test_id}")
    expect(page.locator(".valid")).to_be_visible()
    reached = []
    for _ in range(40):  # Tab through the page: the editor is one stop, and Tab leaves it again
        page.keyboard.press("Tab")
        reached.append(page.evaluate(
            "() => { const e = document.activeElement; return e.dataset.testid || e.getAttribute('aria-label') || e.textContent.trim().slice(0, 40); }"
        ))
        if reached[-1] == "save-revision":
            break
    assert "Skip to content" in reached and "Locust script of keyboard" in reached and reached[-1] == "save-revision", reached
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")  # back into the editor: type, then save with Enter on the button
    page.keyboard.press("Control+End")
    page.keyboard.type("\n# typed from the keyboard\n")
    page.keyboard.press("Tab")
    page.keyboard.type("keyboard only")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Saved as revision 2.")).to_be_visible()


def test_clusters_list_and_edit(page, console_url, check_page):
    page.goto(f"{console_url}/clusters")
    expect(page.get_by_test_id("clusters-list")).to_be_visible()
    page.get_by_label("Organisation id").fill("acme")
    page.get_by_label("Project id").fill("shop")
    page.get_by_label("Environment id").fill("staging")
    page.get_by_label("Max workers").fill("4")
    page.get_by_role("button", name="Save configuration").click()
    row = page.get_by_test_id("cluster-row").filter(has_text="env staging")
    expect(row).to_contain_text("local")
    expect(row).to_contain_text("4")
    check_page(page, "clusters")
    row.get_by_role("button", name="Edit").click()
    expect(page.get_by_role("heading", name="Edit the org acme / project shop / env staging configuration")).to_be_visible()
    page.get_by_label("Backend").select_option("ecs")
    for label, value in [("ECS cluster", "load"), ("Master task definition", "master:1"), ("Worker task definition", "worker:1"),
                         ("Subnets (comma-separated)", "not-a-subnet"), ("Security groups (comma-separated)", "sg-0abc")]:
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Save configuration").click()
    # The API's own validation answer is shown as it is.
    expect(page.get_by_role("alert")).to_contain_text("Not saved")
    check_page(page, "clusters, edit with an API error")
    page.get_by_role("button", name="Cancel").click()
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status").filter(has_text="deleted")).to_be_visible()
    expect(page.get_by_test_id("cluster-row")).to_have_count(0)


def test_every_view_has_its_own_url(page, console_url, target, check_page):
    test_id = _create_test(console_url, target.url, name="deep links")
    page.goto(f"{console_url}/tests")
    row = page.get_by_test_id("test-row").filter(has_text="deep links")
    expect(row).to_contain_text("Revision 1")
    expect(row).to_contain_text("never run")
    check_page(page, "tests list")

    edited = SCRIPT.replace('"/"', '"/items"')
    requests.put(f"{console_url}/v1/load-tests/{test_id}/script", json={"scriptContent": b64(edited)}, timeout=10).raise_for_status()
    page.goto(f"{console_url}/tests/{test_id}?revision=1")  # an older revision, by URL
    expect(page.locator(".revision-line")).to_contain_text("You are viewing an older revision")
    expect(page.get_by_test_id("script-editor")).to_contain_text('self.client.get("/")')

    page.goto(f"{console_url}/tests/{test_id}/history")  # a fresh load, straight to a view
    expect(page.get_by_test_id("revision-row")).to_have_count(2)
    page.get_by_role("tab", name="Trends").click()
    expect(page).to_have_url(f"{console_url}/tests/{test_id}/trends")
    expect(page.get_by_test_id("trend-chart")).to_have_attribute("data-points", "0")
    check_page(page, "trends, no run yet")
    page.go_back()
    expect(page.get_by_test_id("revision-history")).to_be_visible()

    page.goto(f"{console_url}/runs/compare?base=a&target=b")
    expect(page.get_by_role("alert")).to_contain_text("RunNotFound")  # the API's error, as it came
    check_page(page, "compare, unknown runs")

    page.goto(f"{console_url}/tests/{'0' * 32}")
    expect(page.get_by_role("alert")).to_contain_text("LoadTestNotFound")  # the API's error, as it came
    check_page(page, "unknown test")

    page.goto(f"{console_url}/no/such/page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    check_page(page, "not found")


def test_serve_answers_views_files_and_api_side_by_side(console_url):
    for path in ("/tests/abc/history", "/tests/abc/gates", "/tests/abc/automation", "/tests/abc/settings"):  # views, tabs included
        view = requests.get(f"{console_url}{path}", timeout=10)
        assert view.status_code == 200 and view.headers["content-type"] == "text/html; charset=utf-8"
        assert '<script type="module" src="/src/main.js">' in view.text
    asset = requests.get(f"{console_url}/vendor/uplot.js", timeout=10)  # requests asks for gzip
    assert asset.headers["content-encoding"] == "gzip" and asset.headers["content-type"].startswith("text/javascript")
    assert requests.get(f"{console_url}/vendor/uplot.js", headers={"If-None-Match": asset.headers["etag"]}, timeout=10).status_code == 304
    assert requests.head(f"{console_url}/", timeout=10).status_code == 200
    assert requests.get(f"{console_url}/config.json", timeout=10).json()["auth"] == {"mode": "none"}
    # The API keeps API Gateway's answers, under /v1 and for any other method elsewhere.
    assert requests.get(f"{console_url}/v1/nothing", timeout=10).json() == {"message": "Not Found"}
    assert requests.post(f"{console_url}/tests", timeout=10).json() == {"message": "Not Found"}
    assert requests.get(f"{console_url}/v1/health", timeout=10).json()["status"] == "ok"
