"""The report pages: self-contained (the layer's uPlot is the console's, byte for byte), escaped."""

from __future__ import annotations

import re
from pathlib import Path

from support.results import endpoint, summary

from load_manager.models.criteria import CriterionResult
from load_manager.models.results import MetricsSeries
from load_manager.models.runs import ErrorSummary, Run, StatusChange
from load_manager.report import render

ROOT = Path(__file__).resolve().parents[2]
LAYER_VENDOR = ROOT / "layers" / "core" / "load_manager" / "report" / "vendor"
CONSOLE_VENDOR = ROOT / "console" / "vendor"


def test_the_layers_uplot_is_the_consoles_pinned_copy():
    """The Lambda layer cannot read console/: it ships its own copy, which must never drift."""
    assert (LAYER_VENDOR / "uplot.js").read_bytes() == (CONSOLE_VENDOR / "uplot.js").read_bytes()
    assert (LAYER_VENDOR / "uplot.css").read_bytes() == (CONSOLE_VENDOR / "uplot.css").read_bytes()
    assert (LAYER_VENDOR / "LICENSE-uplot.txt").read_bytes() == (CONSOLE_VENDOR / "LICENSES" / "uplot.txt").read_bytes()
    assert "| uplot | 1.6.32 |" in (CONSOLE_VENDOR / "THIRD_PARTY_NOTICES.md").read_text()


EVIL = '</script><script>alert("x")</script><img src=x onerror=alert(1)>'


def _run(**fields) -> Run:
    row = endpoint(EVIL)
    return Run.model_validate({
        "id": "a" * 32, "accountId": "acct", "loadTestId": "b" * 32, "status": "Finished", "result": "Failed",
        "statusHistory": [StatusChange(status="Finished", at=1, actor="system").model_dump(by_alias=True)],
        "scriptRevisionId": "c" * 32, "revisionNumber": 3, "scriptSha256": "d" * 64, "targetUrl": "http://127.0.0.1:9", "targetUsers": 5,
        "spawnRate": 5, "durationSeconds": 60, "workers": 1, "createdAt": 1, "createdBy": EVIL, "startedAt": 1000, "endedAt": 61000,
        "summary": summary().model_dump(by_alias=True), "endpoints": [row.model_dump(by_alias=True)], "reportLocation": "/data/x.html",
        "errors": [ErrorSummary(method="GET", name=EVIL, error=EVIL, occurrences=3).model_dump(by_alias=True)], **fields,
    })  # fmt: skip


def _series(points: int = 3) -> MetricsSeries:
    return MetricsSeries(
        run_id="a" * 32, origin=1000, step_ms=1000, window_start=1000, window_end=61000, complete=True, percentiles="max",
        time=[1000 + i * 1000 for i in range(points)], users=[5] * points, rps=[10.0] * points, failures_per_second=[0.0] * points,
        p50_ms=[1.0] * points, p95_ms=[2.0] * points, p99_ms=[3.0] * points,
    )  # fmt: skip


def test_the_run_page_is_self_contained_and_escapes_what_users_and_locust_wrote():
    line = CriterionResult.model_validate({"criterion": {"metric": "p95Ms", "operator": "<", "threshold": 10, "endpoint": f"GET {EVIL}"},
                                           "actual": 50, "limit": 10, "passed": False, "message": EVIL})  # fmt: skip
    page = render.run_page(_run(criteriaResults=[line.model_dump(by_alias=True)]), EVIL, _series(), locust_href="/v1/runs/x/locust-report")
    assert page.startswith("<!doctype html>") and page.endswith("</html>")
    assert "<script>alert" not in page and "<img src=x" not in page, "user text must be escaped"
    # Nothing loaded from elsewhere: the only script sources are inline, uPlot comes as a data: URL.
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?https?:""", page)
    assert 'import uPlot from "data:text/javascript;base64,' in page and "default-src 'none'" in page
    assert page.count("<script") == 2  # the data (JSON) and the module
    for chart in ("chart-rps", "chart-percentiles", "chart-users"):
        assert f'id="{chart}"' in page
    assert 'id="locust-link" href="/v1/runs/x/locust-report"' in page
    assert "Revision</dt><dd>3" in page


def test_the_data_cannot_close_its_script_element():
    page = render.run_page(_run(), "t", _series(), locust_href="/x")
    data = page.split('<script type="application/json" id="report-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data


def test_the_run_page_says_what_the_run_used_and_cost_once_it_is_recorded():
    series = _series()
    assert "Usage</dt><dd>-</dd>" in render.run_page(_run(), "t", series, locust_href="/x")  # not recorded yet
    ecs = {"vcpuSeconds": 24.51, "memoryGbSeconds": 49.02, "loadGenerators": 3, "durationSeconds": 13.1, "basis": "allocated",
           "estimatedCost": {"amount": 0.0003, "currency": "USD", "region": "eu-west-1", "priceSource": "default"}}  # fmt: skip
    page = render.run_page(_run(usage=ecs), "t", series, locust_href="/x")
    assert ("Usage</dt><dd>0.0068 vCPU-hours, 0.0136 GB-hours, 3 load generators (allocated); "
            "estimated 0.00 USD (default prices, eu-west-1)</dd>") in page  # fmt: skip
    local = ecs | {"loadGenerators": 1, "basis": "consumed", "estimatedCost": {"amount": 0, "currency": "USD", "region": None, "priceSource": "local"}}
    assert "1 load generator (consumed); no cost (this machine)</dd>" in render.run_page(_run(usage=local), "t", series, locust_href="/x")
