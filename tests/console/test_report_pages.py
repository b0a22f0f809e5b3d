"""The results report page and the comparison page, opened in headless chromium from a real
`load-manager serve`, draw their charts (uPlot inlined, nothing fetched but the page itself).

The runs are made by the real lifecycle steps (the real ASL walked, an in-memory Locust backend),
so the run pages are the ones Finalize rendered and stored; revision 2 differs from revision 1.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from support.fake_backend import FakeBackend
from support.lifecycle import RecordingStarter
from support.results import samples, store_samples
from support.scripts import SIMPLE, b64, simple_variant
from support.serve import serve

from load_manager.identity import Caller
from load_manager.lifecycle.dispatch import run_step
from load_manager.models.load_tests import CreateLoadTestRequest
from load_manager.models.runs import StartRunRequest
from load_manager.settings import Settings, set_settings
from load_manager.store import set_stores
from load_manager.store.sqlite import build_sqlite_stores
from load_manager.usecases import load_tests, runs, scripts

pytestmark = pytest.mark.slow
LOCAL = Caller(subject="local-user", email="local@localhost", account_id="local", groups=frozenset())  # serve's caller without a token

# Non-blank pixels drawn on each chart's canvas (uPlot draws lines on a 2D canvas).
DRAWN_PIXELS = """(figure) => {
  const canvas = figure.querySelector('canvas');
  const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  let drawn = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) drawn += 1;
  return drawn;
}"""


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """(serve URL, run of revision 1, run of revision 2) in one data directory."""
    data = tmp_path_factory.mktemp("report-pages")
    set_settings(Settings(data_dir=str(data), sqlite_path=str(data / "load_manager.db"), min_poll_seconds=1, run_deadline_margin_seconds=60))
    stores = build_sqlite_stores(str(data / "load_manager.db"))
    set_stores(stores)
    try:
        request = CreateLoadTestRequest.model_validate({"name": "shop", "scriptContent": b64(SIMPLE), "targetUrl": "http://127.0.0.1:9"})
        test = load_tests.create(stores, LOCAL, request)
        made = [_finished(stores, test.id, 1)]
        scripts.update_script(stores, LOCAL, test.id, b64(simple_variant(4)), "browse an item")
        made.append(_finished(stores, test.id, 2))
    finally:
        set_stores(None)
        set_settings(None)
    with serve(data) as url:
        yield url, *made


def _finished(stores, test_id: str, revision: int) -> str:
    threshold = 100 if revision == 1 else 20  # the fake's p95 is 20 ms: revision 1 passes, revision 2 fails
    body = {"durationSeconds": 1, "revision": revision, "criteria": [{"metric": "p95Ms", "operator": "<", "threshold": threshold}]}
    run, _ = runs.start_run(stores, RecordingStarter, LOCAL, test_id, StartRunRequest.model_validate(body), None)
    locust = FakeBackend(html_report="<!doctype html><html><head><title>Locust</title></head><body><h1>Locust report</h1></body></html>")
    event = {"runId": run.id, "accountId": "local"}
    for action in ("start", "poll"):
        run_step({**event, "action": action}, stores, locust.factory)
    started = stores.runs.get("local", run.id)
    store_samples(stores, "local", started, samples(run.id, started.started_at, 60, slower_ms=30 * (revision - 1)))  # a minute to chart
    run_step({**event, "action": "finalize"}, stores, locust.factory)  # renders and stores the report page
    final = stores.runs.get("local", run.id)
    assert final.status == "Finished" and final.results_report_location
    return run.id


def _charts_drawn(page, ids: list[str]) -> None:
    for chart in ids:
        figure = page.get_by_test_id(chart)
        expect(figure).to_have_attribute("data-drawn", "true")
        assert int(figure.get_attribute("data-points")) > 1
        assert figure.evaluate(DRAWN_PIXELS) > 500, f"{chart}: the canvas is blank"


def test_the_run_report_draws_its_charts_and_links_to_locusts_report(page, two_runs, check_page):
    url, _, second = two_runs
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((url, "data:")) else None)
    page.goto(f"{url}/v1/runs/{second}/report")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"shop: run {second[:8]}")
    expect(page.get_by_test_id("result")).to_have_text("Failed")  # p95 20 ms, criterion < 20
    _charts_drawn(page, ["chart-rps", "chart-percentiles", "chart-users"])
    expect(page.locator("table").filter(has_text="p95Ms")).to_contain_text("failed")  # the criteria
    expect(page.locator("table").filter(has_text="GET /")).to_contain_text("All requests")  # the endpoints
    check_page(page, "run report")
    assert not outside, f"the page fetched something besides itself: {outside}"
    page.get_by_role("link", name="Locust's own report").click()
    expect(page.get_by_role("heading", name="Locust report")).to_be_visible()


def test_the_comparison_page_draws_both_runs_and_the_diff(page, two_runs, check_page):
    url, first, second = two_runs
    page.goto(f"{url}/v1/runs/compare/report?base={first}&target={second}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("(revision 2) vs")
    _charts_drawn(page, ["chart-p95", "chart-rps", "chart-users"])
    diff = page.get_by_test_id("script-diff")
    expect(diff.locator(".add")).to_contain_text(['+++ revision 2', '+        self.client.get("/items/4")'])
    expect(page.locator(".sides")).to_contain_text("Passed")
    check_page(page, "comparison report")
