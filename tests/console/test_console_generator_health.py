"""A load generator that burns its CPU, as a user meets it: real Locust through the session's
`load-manager serve` of its own, started with the `load-manager` CLI as a pipeline would (`runs start --wait`).

The locustfile's one user spins in a busy loop (yielding to gevent every 50 ms, so Locust's web API
still answers), which keeps its Locust process at one whole core. On a machine shared with busy
neighbours (CI: 2 cores, 4 test workers) the loop gets less than a core, but it is ready to run all
the time, and the time it waits for a CPU counts too (analysis/generators.py): the verdict does not
depend on how busy the machine is. The run passes its criterion and is marked generatorSaturated,
with the figures; the CLI exits 4; the API, the report page, the console's run page and the RunFinished
event serve put on its bus (recorded in its data directory) all say so.
The example locustfile's runs are checked unsaturated by the tutorial (tests/docs/test_tutorial.py:
the verdict line of docs/tutorial/first-run.md and gate-in-ci.md, and exit code 0)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect
from support.serve import cli as _cli
from support.serve import serve

pytestmark = pytest.mark.slow

BURNER = '''import time

import gevent
from locust import HttpUser, constant, task


class Burner(HttpUser):
    wait_time = constant(0)

    @task
    def burn(self):
        # A second of busy loop per request (the request's own wait is little beside it), yielding every
        # 50 ms so the web API answers.
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            spin_until = time.monotonic() + 0.05
            while time.monotonic() < spin_until:
                pass
            gevent.sleep(0)
        self.client.get("/")
'''


def test_a_locustfile_that_burns_cpu_is_marked_generator_saturated(tmp_path, target, page, check_page):
    (tmp_path / "burner.py").write_text(BURNER)
    with serve(tmp_path / "data") as url:
        run = _burner_run(url, tmp_path, target)
        _the_api_report_and_console_say_so(url, run, page, check_page)
    finished = [e for e in map(json.loads, (tmp_path / "data" / "events.jsonl").read_text().splitlines()) if e["detail-type"] == "RunFinished"]
    (detail,) = [e["detail"] for e in finished if e["detail"]["runId"] == run["id"]]
    assert (detail["result"], detail["generatorSaturated"]) == ("Passed", True)
    assert detail["generatorHealth"]["message"] == run["generatorHealth"]["message"]
    assert [g["generator"] for g in detail["generatorHealth"]["saturated"]] == ["locust"]


def _burner_run(url: str, tmp_path: Path, target) -> dict:
    created = _cli(url, "tests", "create", "--name", "burner", "--script", str(tmp_path / "burner.py"), "--target-url", target.url,
                   "--users", "1", "--spawn-rate", "1", "--duration", "5", "--criterion", "failRatio<=0.01", "--json")  # fmt: skip
    assert created.returncode == 0, created.stderr
    test_id = json.loads(created.stdout)["id"]

    started = _cli(url, "runs", "start", test_id, "--wait", "--json")
    run = json.loads(started.stdout)
    health = run["generatorHealth"]
    assert (run["status"], run["result"], run["generatorSaturated"]) == ("Finished", "Passed", True), (run.get("failureReason"), health)
    assert started.returncode == 4, started.stderr  # passed, but on a saturated generator: not a plain pass
    assert "The numbers may understate what the target can do" in started.stderr  # said to the person reading the log too
    (locust,) = health["generators"]  # one Locust process: the run had one worker
    assert (locust["generator"], locust["judged"], locust["saturated"]) == ("locust", True, True), health
    assert locust["shareAbove"] > health["maxShare"] and locust["peakPercent"] > health["thresholdPercent"] and locust["samples"] >= 2
    assert locust["peakMemoryBytes"] > 0 and health["message"].startswith("Load generator saturated: locust spent ")
    assert target.total_requests() > 0
    return run


def _the_api_report_and_console_say_so(url: str, run: dict, page, check_page) -> None:
    health = run["generatorHealth"]
    generators = requests.get(f"{url}/v1/runs/{run['id']}/generators", timeout=10).json()
    assert generators["generatorSaturated"] is True and generators["health"] == health
    (line,) = generators["generators"]
    demand = [c + (w or 0) for c, w in zip(line["cpuPercent"], line["cpuWaitPercent"], strict=True)]
    assert line["generator"] == "locust" and len(line["time"]) >= 2 and max(demand) > 90

    report = requests.get(f"{url}/v1/runs/{run['id']}/report", timeout=30).text
    assert 'data-testid="generator-saturated"' in report and "locust spent " in report

    page.goto(f"{url}/runs/{run['id']}")
    banner = page.get_by_test_id("generator-saturated")
    expect(banner).to_be_visible(timeout=30_000)
    expect(banner).to_contain_text("The numbers may understate what the target can do")
    expect(banner).to_contain_text("The criteria were judged as usual")
    expect(page.get_by_test_id("generator-table").locator('tr[data-generator="locust"]')).to_contain_text("saturated")
    check_page(page, "run, generator saturated")
