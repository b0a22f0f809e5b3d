"""The web console (issue 10): bytes on the first load of a run page, and one live chart update.

`run_page_first_load_bytes` — a real `load-manager serve`, one finished run against the in-process
target; `/runs/{id}` opened in headless chromium (Debian's, through Playwright) with the cache
disabled: every response body as it crossed the wire (serve gzips), API answers (`/v1/…`) excluded.
Anchor: the JavaScript of Locust's own web UI (the bundles its `webui/dist/index.html` loads, from
the installed locust package), gzipped at the level serve uses. Target ≤ 0.25.

`chart_update_10k_points` — in the same browser, the run page's three charts (`CHARTS` and
`chartOptions` from the console's own modules) holding 10,000 samples; one update = a sample
appended (the oldest dropped), `toColumns` over all of them, `setData` on the three charts and
uPlot's redraw (its commit microtask): main-thread time, median. Anchor: a 16 ms frame (a constant,
not measured). Target ≤ 1.
"""

from __future__ import annotations

import gzip
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchlib import ROOT, figure, log, median, spread, use_project_tree
from run_start_latency import Client, TimedTarget, serve

sys.path.insert(0, str(ROOT / "tests"))
from support.browser import CHROMIUM_ARGS, chromium_executable  # noqa: E402

GZIP_LEVEL = 6  # what load_manager_local.console uses
FRAME_MS = 16.0
POINTS = 10_000
SCRIPT = """from locust import HttpUser, task, between


class Shopper(HttpUser):
    wait_time = between(0.05, 0.1)

    @task
    def home(self):
        self.client.get("/")
"""

TIME_CHART_UPDATES = """async ({ points, repeats }) => {
  const { default: uPlot } = await import('/vendor/uplot.js');
  const { toColumns } = await import('/src/metrics.js');
  const { chartOptions } = await import('/src/components/time-chart.js');
  const { CHARTS } = await import('/src/pages/run.js');
  const sample = (i) => ({
    at: 1.7e12 + i * 1000, users: 50, rps: 200 + (i % 17), failuresPerSecond: i % 5,
    p50Ms: 10 + (i % 7), p95Ms: 40 + (i % 11), p99Ms: 90 + (i % 13),
  });
  const samples = Array.from({ length: points }, (_, i) => sample(i));
  const host = Object.assign(document.createElement('div'), { style: 'display:flex;width:1200px' });
  document.body.append(host);
  let columns = toColumns(samples);
  const plots = CHARTS.map((chart) => {
    const parent = host.appendChild(document.createElement('div'));
    return [chart, new uPlot(chartOptions(chart.series, chart.unit, 380), chart.columns(columns), parent)];
  });
  const times = [];
  for (let i = 0; i < repeats; i++) {
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));  // between two polls
    samples.push(sample(points + i));
    samples.shift();
    const start = performance.now();
    columns = toColumns(samples);
    for (const [chart, plot] of plots) plot.setData(chart.columns(columns));
    await new Promise((resolve) => queueMicrotask(resolve));  // after uPlot's own commit (draw) microtasks
    times.push(performance.now() - start);
  }
  return times;
}"""


def run(quick: bool) -> list[dict[str, Any]]:
    use_project_tree()
    from playwright.sync_api import sync_playwright

    executable = chromium_executable()
    repeats = 15 if quick else 60
    with tempfile.TemporaryDirectory(prefix="lm-bench-console-") as tmp, sync_playwright() as playwright:
        target = TimedTarget()
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=Path(tmp) / "profile", executable_path=executable, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )  # fmt: skip
        try:
            with serve(Path(tmp)) as server:
                client = Client(server)
                test_id = client.create_test("bench-console", target.url, SCRIPT)
                run_id = client.start_run(test_id, users=2, spawn_rate=2, duration_s=3, workers=1)["id"]
                client.wait_finished(run_id, timeout=120)
                page = context.new_page()
                shipped, requests_made = _first_load_bytes(page, f"{server.url}/runs/{run_id}")
                log(f"run page first load: {shipped} bytes in {requests_made} requests")
                page.goto(f"{server.url}/tests")
                times = page.evaluate(TIME_CHART_UPDATES, {"points": POINTS, "repeats": repeats})
        finally:
            context.close()
            target.stop()
    locust_js = _locust_web_ui_javascript()
    anchor_bytes = sum(len(gzip.compress(f.read_bytes(), GZIP_LEVEL)) for f in locust_js)
    update_ms = median(times)
    return [
        figure(
            "console.run_page_first_load_bytes",
            measured="gzipped bytes over the wire on the first load of /runs/{id} (cache off; API answers excluded)",
            anchor=f"Locust's own web UI JavaScript, gzip -{GZIP_LEVEL} ({', '.join(f.name for f in locust_js)})",
            value=shipped, anchor_value=anchor_bytes, unit="bytes", max_ratio=0.25, samples=1,
            details={"requests": requests_made},
        ),  # fmt: skip
        figure(
            "console.chart_update_10k_points",
            measured=f"one live update of the run page's 3 charts holding {POINTS} samples (toColumns + setData + draw)",
            anchor=f"one {FRAME_MS:g} ms frame", value=update_ms, anchor_value=FRAME_MS, unit="ms", max_ratio=1.0,
            samples=len(times), details={"spread_ms": spread(times), "max_ms": max(times)},
        ),  # fmt: skip
    ]


def _first_load_bytes(page, url: str) -> tuple[int, int]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    loaded: list[tuple[str, int]] = []
    page.on("requestfinished", lambda request: loaded.append((request.url, request.sizes()["responseBodySize"])))
    page.goto(url)
    page.get_by_test_id("endpoint-table").wait_for()
    page.wait_for_load_state("networkidle")
    time.sleep(0.2)
    if any("codemirror" in u for u, _ in loaded):
        raise RuntimeError("the run page loaded CodeMirror")
    console_files = [(u, size) for u, size in loaded if "/v1/" not in u]
    return sum(size for _, size in console_files), len(console_files)


def _locust_web_ui_javascript() -> list[Path]:
    import importlib.util

    # Located, not imported: importing locust monkey-patches the process with gevent.
    dist = Path(importlib.util.find_spec("locust").origin).parent / "webui" / "dist"
    scripts = re.findall(r'<script[^>]+src="\./([^"]+\.js)"', (dist / "index.html").read_text())
    if not scripts:
        raise RuntimeError(f"no script in {dist / 'index.html'}: Locust's web UI changed")
    return [dist / script for script in scripts]
