"""A release pipeline gating on Load Manager, as CI would run it: the `load-manager` CLI in a
subprocess against a real `load-manager serve`, real Locust, the example target.

Revision 1 passes its criteria (exit 0) and becomes the baseline. Revision 2 adds a slow checkout
step: its run fails the thresholds and the regression criterion against the baseline (exit 1), and
`runs compare` names the endpoint that made it slower, by how much, with the script diff that did it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.serve import cli as _cli
from support.serve import serve

pytestmark = pytest.mark.slow

CLI = Path(sys.executable).parent / "load-manager"
REVISION_1 = """from locust import HttpUser, between, task


class Shopper(HttpUser):
    wait_time = between(0.05, 0.1)

    @task(3)
    def home(self):
        self.client.get("/")

    @task(2)
    def catalogue(self):
        self.client.get("/items")
"""
REVISION_2 = REVISION_1 + """
    @task(3)
    def checkout(self):
        self.client.get("/slow?ms=300", name="/checkout")  # the new step: a slow endpoint
"""


def _json(result: subprocess.CompletedProcess):
    assert result.stdout, result.stderr
    return json.loads(result.stdout)


def test_revision_2_adds_a_slow_endpoint_fails_its_gates_and_compare_says_why(tmp_path, target):
    (tmp_path / "v1.py").write_text(REVISION_1)
    (tmp_path / "v2.py").write_text(REVISION_2)
    with serve(tmp_path / "data") as url:
        created = _cli(url, "tests", "create", "--name", "shop", "--script", str(tmp_path / "v1.py"), "--target-url", target.url,
                       "--users", "5", "--spawn-rate", "5", "--duration", "3", "--criterion", "p95Ms<150",
                       "--criterion", "GET /:failRatio<=0.01", "--json")  # fmt: skip
        assert created.returncode == 0, created.stderr
        test_id = _json(created)["id"]

        first = _cli(url, "runs", "start", test_id, "--wait", "--json")
        run_1 = _json(first)
        assert first.returncode == 0, (first.stderr, run_1.get("criteriaResults"))
        assert (run_1["status"], run_1["result"], run_1["revisionNumber"]) == ("Finished", "Passed", 1)
        assert "Finished" in first.stderr, "the live progress goes to stderr"

        assert _cli(url, "baseline", "set", test_id, run_1["id"]).returncode == 0
        pushed = _cli(url, "script", "push", test_id, str(tmp_path / "v2.py"), "-m", "checkout step")
        assert pushed.returncode == 0 and "revision 2" in pushed.stdout

        second = _cli(url, "runs", "start", test_id, "--wait", "--json", "--criterion", "p95Ms<150", "--criterion", "p95Ms+50%")
        run_2 = _json(second)
        assert second.returncode == 1, second.stderr
        assert (run_2["status"], run_2["result"], run_2["revisionNumber"], run_2["baselineRunId"]) == ("Finished", "Failed", 2, run_1["id"])
        threshold, regression = run_2["criteriaResults"]
        assert threshold["passed"] is False and threshold["actual"] >= 300
        assert regression["passed"] is False and regression["baseline"] == run_1["summary"]["p95Ms"] and regression["regressionPercent"] > 50

        compared = _json(_cli(url, "runs", "compare", run_2["id"], "--json"))
        assert compared["baseIsBaseline"] is True and compared["base"]["id"] == run_1["id"]
        assert [e["endpoint"] for e in compared["onlyInTarget"]] == ["GET /checkout"]
        assert compared["onlyInTarget"][0]["stats"]["p95Ms"] >= 300
        named = [h["message"] for h in compared["highlights"] if h["endpoint"] == "GET /checkout"]
        # Its p95 as the comparison has it (300 ms and up: how far up depends on the machine's load).
        p95 = f"p95 {compared['onlyInTarget'][0]['stats']['p95Ms']:,.0f} ms"
        assert named and p95 in named[0] and "% against the base run's overall p95" in named[0], compared["highlights"]
        # At least 300 ms (revision 2) less under 150 ms (revision 1 passed p95Ms<150).
        assert compared["overall"]["p95Ms"]["worse"] is True and compared["overall"]["p95Ms"]["absolute"] >= 150
        assert '+        self.client.get("/slow?ms=300", name="/checkout")' in compared["scriptDiff"]["unifiedDiff"]

        people = _cli(url, "runs", "compare", run_2["id"], "--report", str(tmp_path / "compare.html"))
        assert people.returncode == 0, people.stderr
        assert "GET /checkout: new in the target run" in people.stdout and 'name="/checkout")' in people.stdout
        report = _cli(url, "runs", "report", run_2["id"], "-o", str(tmp_path / "run-2.html"))
        assert report.returncode == 0 and "<!doctype html>" in (tmp_path / "run-2.html").read_text()[:20]
        assert (tmp_path / "compare.html").read_text().count("GET /checkout") >= 2
        watched = _cli(url, "runs", "watch", run_1["id"])
        assert watched.returncode == 0 and "Passed" in watched.stdout, "watching a finished run gives its verdict at once"
