"""The results API through the real handlers (InProcessApi, SQLite): metrics series of long runs,
live polling with `since`, stats, comparisons, trends, baselines, report pages (locally and on S3)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote, unquote, urlsplit

import boto3
import pytest
from moto import mock_aws
from support.results import endpoint, finished_run, samples, store_samples, summary
from support.scripts import AUTH_B, SIMPLE, b64, simple_variant

from load_manager.analysis.series import MAX_POINTS
from load_manager.ids import now_ms
from load_manager.usecases import series as series_usecases

ACCOUNT = "local"  # the default caller's tenant
HOUR = 3600


@pytest.fixture
def test_id(api):
    created = api.request("POST", "/v1/load-tests", body={"name": "results", "scriptContent": b64(SIMPLE), "targetUrl": "http://127.0.0.1:9"})
    assert created.status == 201, created.json()
    return created.json()["id"]


def _finished(stores, test_id: str, seconds: int, revision: int = 1, started_at: int | None = None, **fields):
    rev = stores.revisions.get_by_number(ACCOUNT, test_id, revision)
    run = finished_run(ACCOUNT, test_id, rev.id, revision, started_at or now_ms() - (seconds + 60) * 1000, seconds, **fields)
    stores.runs.insert(run)
    return run


def _series(api, run_id: str, **query) -> dict:
    response = api.request("GET", f"/v1/runs/{run_id}/metrics", query="&".join(f"{k}={quote(str(v))}" for k, v in query.items()))
    assert response.status == 200, response.json()
    return response.json()


def test_an_hour_sampled_every_2_s_answers_at_most_1000_points_per_series(api, stores, test_id):
    run = _finished(stores, test_id, HOUR)
    store_samples(stores, ACCOUNT, run, samples(run.id, run.started_at, HOUR, every_seconds=2))
    computed = api.request("GET", f"/v1/runs/{run.id}/metrics").json()
    series_usecases.store_final_series(stores, run)  # as Finalize does
    assert stores.metrics.final_series(ACCOUNT, run.id, None) is not None
    assert api.request("GET", f"/v1/runs/{run.id}/metrics").json() == computed, "the kept series is the computed one"
    series = _series(api, run.id)
    columns = ("time", "users", "rps", "failuresPerSecond", "p50Ms", "p95Ms", "p99Ms")
    assert 0 < len(series["time"]) <= MAX_POINTS
    assert len({len(series[c]) for c in columns}) == 1, "every series has a value per point"
    assert series["complete"] is True and series["stepMs"] == 4000 and len(series["time"]) == 901  # 2 s .. 3600 s
    # The default step covers the whole run: from its first sample to its last.
    assert series["time"][0] == run.started_at and series["time"][-1] >= run.ended_at - series["stepMs"]
    # A point's percentile is the highest of its bucket (samples i = 2k-1, 2k), never their mean.
    assert series["p95Ms"][1] == max(40.0 + i % 11 for i in (2, 3)) and series["users"][-1] == 50
    one_endpoint = _series(api, run.id, endpoint="GET /items")
    assert stores.metrics.final_series(ACCOUNT, run.id, "GET /items") is not None
    assert one_endpoint["endpoint"] == "GET /items" and len(one_endpoint["time"]) == 901 and set(one_endpoint["p95Ms"]) == {31.0}
    zoomed = _series(api, run.id, **{"from": run.started_at + 600_000, "to": run.started_at + 660_000})
    assert zoomed["stepMs"] == 1000 and len(zoomed["time"]) == 31, "a zoomed minute gets its raw samples (both ends included)"
    coarse = _series(api, run.id, step=60_000)
    assert coarse["stepMs"] == 60_000 and len(coarse["time"]) == 61  # the last sample opens a 61st minute


def test_a_live_client_polls_with_since_and_pays_for_new_points_only(api, stores, test_id):
    run = finished_run(ACCOUNT, test_id, stores.revisions.latest(ACCOUNT, test_id).id, 1, now_ms() - 30_000, 600,
                       status="Running", ended_at=None, summary=None, endpoints=[])  # fmt: skip
    stores.runs.insert(run)
    stream = list(samples(run.id, run.started_at, 60, every_seconds=1))
    store_samples(stores, ACCOUNT, run, stream[:20])
    first = _series(api, run.id)
    assert first["complete"] is False and first["stepMs"] == 1000 and len(first["time"]) == 20  # the step of a 600 s run
    store_samples(stores, ACCOUNT, run, stream[20:25])
    second = _series(api, run.id, since=first["nextSince"])
    # The last point again (its bucket may have grown), then the new ones: nothing older.
    assert second["time"] == [first["time"][-1]] + [s.at for s in stream[20:25]]
    third = _series(api, run.id, since=second["nextSince"])
    assert third["time"] == [second["time"][-1]]
    mismatch = api.request("GET", f"/v1/runs/{run.id}/metrics", query=f"since={third['nextSince']}&step=5000")
    assert (mismatch.status, mismatch.json()["code"]) == (400, "InvalidCursor")


def test_stats_of_a_finished_run_and_of_a_running_one(api, stores, test_id):
    run = _finished(stores, test_id, 60)
    stats = api.request("GET", f"/v1/runs/{run.id}/stats").json()
    assert stats["final"] is True and stats["summary"]["p90Ms"] == 40.0
    assert [(e["name"], e["p90Ms"], e["failRatio"]) for e in stats["endpoints"]] == [("/", 30.0, 0.0), ("/items", 30.0, 0.0)]
    live = finished_run(ACCOUNT, test_id, run.script_revision_id, 1, now_ms(), 600, status="Running", summary=None, endpoints=[])
    stores.runs.insert(live)
    store_samples(stores, ACCOUNT, live, samples(live.id, live.started_at, 4))
    stats = api.request("GET", f"/v1/runs/{live.id}/stats").json()
    assert stats["final"] is False and stats["summary"] is None
    assert [(e["name"], e["requests"], e["p95Ms"], e["avgMs"]) for e in stats["endpoints"]] == [("/", 200, 30.0, None), ("/items", 200, 31.0, None)]


def test_compare_across_revisions_with_the_diff_and_the_baseline_by_default(api, stores, test_id):
    assert api.request("PUT", f"/v1/load-tests/{test_id}/script", body={"scriptContent": b64(simple_variant(3))}).status == 201
    base = _finished(stores, test_id, 60, revision=1)
    target = _finished(stores, test_id, 60, revision=2, summary=summary(p95_ms=150.0, rps=80.0),
                       endpoints=[endpoint("/", p95_ms=45.0), endpoint("/items/3", p95_ms=400.0)])  # fmt: skip
    no_baseline = api.request("GET", "/v1/runs/compare", query=f"target={target.id}")
    assert (no_baseline.status, no_baseline.json()["code"]) == (422, "BaselineRequired")
    assert api.request("PUT", f"/v1/load-tests/{test_id}/baseline", body={"runId": base.id}).json()["baselineRunId"] == base.id
    c = api.request("GET", "/v1/runs/compare", query=f"target={target.id}").json()
    assert c["baseIsBaseline"] is True and c["base"]["id"] == base.id and c["sameRevision"] is False
    assert (c["base"]["revisionNumber"], c["target"]["revisionNumber"]) == (1, 2)
    assert c["overall"]["p95Ms"] == {"base": 50.0, "target": 150.0, "absolute": 100.0, "percent": 200.0, "worse": True}
    assert c["overall"]["rps"]["worse"] is True and c["overall"]["rps"]["percent"] == -20.0
    assert [e["endpoint"] for e in c["endpoints"]] == ["GET /"] and c["endpoints"][0]["deltas"]["p95Ms"]["absolute"] == 5.0
    assert [e["endpoint"] for e in c["onlyInBase"]] == ["GET /items"] and [e["endpoint"] for e in c["onlyInTarget"]] == ["GET /items/3"]
    first, second = (h["message"] for h in c["highlights"][:2])
    # A highlight names its figure as the deltas and criteria do, so a client can look it up.
    assert [(h["endpoint"], h["metric"]) for h in c["highlights"][:2]] == [("GET /items/3", "p95Ms"), (None, "p95Ms")]
    assert all(h["metric"] in c["overall"] for h in c["highlights"])
    assert first.startswith("GET /items/3: new in the target run, p95 400 ms, +700 % against the base run's overall p95 of 50 ms")
    assert second.startswith("All requests: p95 +100 ms (+200 %)")
    assert '-        self.client.get("/")' in c["scriptDiff"]["unifiedDiff"] and '+        self.client.get("/items/3")' in c["scriptDiff"]["unifiedDiff"]
    other = api.request("GET", "/v1/runs/compare", query=f"base={base.id}&target={target.id}", claims=AUTH_B)
    assert (other.status, other.json()["code"]) == (404, "RunNotFound")
    page = api.request("GET", "/v1/runs/compare/report", query=f"target={target.id}")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert "GET /items/3: new in the target run" in page.body.decode() and 'data-testid="script-diff"' in page.body.decode()


def test_runs_of_different_tests_are_not_comparable(api, stores, test_id):
    other_test = api.request("POST", "/v1/load-tests", body={"name": "other", "scriptContent": b64(SIMPLE)}).json()["id"]
    a, b = _finished(stores, test_id, 60), _finished(stores, other_test, 60)
    answer = api.request("GET", "/v1/runs/compare", query=f"base={a.id}&target={b.id}")
    assert (answer.status, answer.json()["code"]) == (422, "NotComparable")


def test_trends_are_the_finished_runs_oldest_first(api, stores, test_id):
    start = now_ms() - 10 * 3_600_000
    made = [_finished(stores, test_id, 60, started_at=start + i * 600_000, summary=summary(p95_ms=50.0 + i)) for i in range(5)]
    stores.runs.insert(finished_run(ACCOUNT, test_id, made[0].script_revision_id, 1, start, 60, status="Failed"))
    trends = api.request("GET", f"/v1/load-tests/{test_id}/trends", query="limit=3").json()
    assert [p["runId"] for p in trends["items"]] == [r.id for r in made[2:]]
    assert [p["p95Ms"] for p in trends["items"]] == [52.0, 53.0, 54.0] and trends["items"][0]["revisionNumber"] == 1
    assert set(trends["items"][0]) >= {"startedAt", "revisionNumber", "targetUsers", "rps", "failRatio", "p95Ms", "p99Ms", "result"}


def test_regression_criteria_keep_their_baseline(api, stores, test_id):
    run = _finished(stores, test_id, 60)
    assert api.request("PUT", f"/v1/load-tests/{test_id}/baseline", body={"runId": run.id}).status == 200
    patched = api.request("PATCH", f"/v1/load-tests/{test_id}", body={"criteria": [{"metric": "p95Ms", "maxRegressionPercent": 10}]})
    assert patched.status == 200 and patched.json()["criteria"][0]["maxRegressionPercent"] == 10
    cleared = api.request("PUT", f"/v1/load-tests/{test_id}/baseline", body={"runId": None})
    assert (cleared.status, cleared.json()["code"]) == (422, "BaselineRequired")
    assert api.request("GET", f"/v1/load-tests/{test_id}").json()["baselineRunId"] == run.id, "nothing changed"
    other = api.request("POST", "/v1/load-tests", body={"name": "other", "scriptContent": b64(SIMPLE)}).json()["id"]
    foreign = api.request("PUT", f"/v1/load-tests/{other}/baseline", body={"runId": run.id})
    assert (foreign.status, foreign.json()["code"]) == (422, "InvalidBaseline")


def test_the_report_page_is_served_locally_and_rendered_when_none_was_stored(api, stores, test_id):
    run = _finished(stores, test_id, 60)
    page = api.request("GET", f"/v1/runs/{run.id}/report")
    assert page.status == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"].startswith("sandbox"), "served from our origin, the page runs as an opaque one"
    assert f"run {run.id[:8]}" in page.body.decode()
    missing = api.request("GET", f"/v1/runs/{run.id}/locust-report")
    assert (missing.status, missing.json()["code"]) == (404, "ReportNotFound")


@mock_aws
def test_in_aws_the_report_is_a_redirect_to_a_short_lived_presigned_url(api, stores, test_id, monkeypatch):
    from load_manager.adapters.reports import save_report, save_results_report
    from load_manager.settings import get_settings, set_settings

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="lm-artifacts")
    previous = get_settings()
    set_settings(previous.model_copy(update={"reports_bucket": "lm-artifacts"}))
    try:
        run = _finished(stores, test_id, 60)
        fields = {"report_location": save_report(ACCOUNT, run.id, "<html>locust</html>"),
                  "results_report_location": save_results_report(ACCOUNT, run.id, "<!doctype html><html>ours</html>")}  # fmt: skip
        stores.runs.update(ACCOUNT, run.id, fields, when_status_in={"Finished"})
        answer = api.request("GET", f"/v1/runs/{run.id}/report")
        assert answer.status == 302 and answer.body == b""
        url, _, fragment = answer.headers["location"].partition("#")
        parts = urlsplit(url)
        assert parts.netloc.startswith("lm-artifacts.") and parts.path == f"/reports/{ACCOUNT}/{run.id}.results.html"
        assert int(parse_qs(parts.query)["X-Amz-Expires"][0]) <= 300
        locust = unquote(fragment.removeprefix("locust="))
        assert urlsplit(locust).path.endswith(f"/reports/{ACCOUNT}/{run.id}.html")
        locust_answer = api.request("GET", f"/v1/runs/{run.id}/locust-report")
        assert locust_answer.status == 302 and "X-Amz-Signature" in locust_answer.headers["location"]
        assert s3.get_object(Bucket="lm-artifacts", Key=f"reports/{ACCOUNT}/{run.id}.results.html")["Body"].read() == b"<!doctype html><html>ours</html>"
    finally:
        set_settings(previous)


def test_a_report_link_is_the_pages_api_url_locally_where_no_token_is_needed(api, stores, test_id):
    base, target = _finished(stores, test_id, 60), _finished(stores, test_id, 60)
    link = api.request("GET", f"/v1/runs/{target.id}/report", query="format=link")
    assert link.status == 200 and link.json() == {"url": f"/v1/runs/{target.id}/report", "expiresInSeconds": None}
    compared = api.request("GET", "/v1/runs/compare/report", query=f"base={base.id}&target={target.id}&format=link").json()
    assert compared == {"url": f"/v1/runs/compare/report?base={base.id}&target={target.id}", "expiresInSeconds": None}
    page = api.request("GET", urlsplit(compared["url"]).path, query=urlsplit(compared["url"]).query)
    assert page.status == 200 and base.id[:8] in page.body.decode() and target.id[:8] in page.body.decode()
    missing = api.request("GET", f"/v1/runs/{target.id}/locust-report", query="format=link")
    assert (missing.status, missing.json()["code"]) == (404, "ReportNotFound"), "no link to a page that is not there"
    bad = api.request("GET", f"/v1/runs/{target.id}/report", query="format=pdf")
    assert (bad.status, bad.json()["code"]) == (422, "ValidationError") and "format" in bad.json()["message"]


def _undated(page: str) -> str:
    return re.sub(r"Generated by Load Manager at [^.]*\.", "", page)


def _s3_object(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.netloc.split(".")[0], unquote(parts.path.lstrip("/"))


@mock_aws
def test_in_aws_a_report_link_is_the_presigned_url_of_the_stored_page(api, stores, test_id):
    from load_manager.adapters.reports import save_report, save_results_report
    from load_manager.settings import get_settings, set_settings

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="lm-artifacts")
    previous = get_settings()
    set_settings(previous.model_copy(update={"reports_bucket": "lm-artifacts"}))
    try:
        base, target = _finished(stores, test_id, 60), _finished(stores, test_id, 60)
        fields = {"report_location": save_report(ACCOUNT, target.id, "<html>locust</html>"),
                  "results_report_location": save_results_report(ACCOUNT, target.id, "<!doctype html><html>ours</html>")}  # fmt: skip
        stores.runs.update(ACCOUNT, target.id, fields, when_status_in={"Finished"})
        link = api.request("GET", f"/v1/runs/{target.id}/report", query="format=link")
        assert link.status == 200 and link.json()["expiresInSeconds"] == 300
        url, _, fragment = link.json()["url"].partition("#")
        assert _s3_object(url) == ("lm-artifacts", f"reports/{ACCOUNT}/{target.id}.results.html")
        assert "X-Amz-Signature" in url and _s3_object(unquote(fragment.removeprefix("locust="))) == ("lm-artifacts", f"reports/{ACCOUNT}/{target.id}.html")
        locust = api.request("GET", f"/v1/runs/{target.id}/locust-report", query="format=link").json()
        assert _s3_object(locust["url"]) == ("lm-artifacts", f"reports/{ACCOUNT}/{target.id}.html") and locust["expiresInSeconds"] == 300
        # The comparison is rendered per request: stored under a key of its own, then linked.
        compared = api.request("GET", "/v1/runs/compare/report", query=f"base={base.id}&target={target.id}&format=link")
        assert compared.status == 200 and compared.json()["expiresInSeconds"] == 300
        bucket, key = _s3_object(compared.json()["url"])
        assert (bucket, key) == ("lm-artifacts", f"reports/{ACCOUNT}/compare/{base.id}_{target.id}.html")
        stored = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        served = api.request("GET", "/v1/runs/compare/report", query=f"base={base.id}&target={target.id}").body.decode()
        assert _undated(stored) == _undated(served)  # the same page, but for when it was generated
        assert "<!doctype html>" in stored.lower() and base.id[:8] in stored
        # A run whose page was not kept at Finalize: rendered, stored apart from Finalize's copy, linked.
        rendered = api.request("GET", f"/v1/runs/{base.id}/report", query="format=link").json()
        assert _s3_object(rendered["url"]) == ("lm-artifacts", f"reports/{ACCOUNT}/rendered/{base.id}.results.html")
        assert f"run {base.id[:8]}" in s3.get_object(Bucket="lm-artifacts", Key=f"reports/{ACCOUNT}/rendered/{base.id}.results.html")["Body"].read().decode()
    finally:
        set_settings(previous)
