"""The results side of the stores, on every adapter: the series read path, the counts auto-stop
reads, and the queries trends and series run being served by an index (never a scan or a sort)."""

from __future__ import annotations

import pytest
from support.results import finished_run, samples

from load_manager.analysis.autostop import Counts
from load_manager.analysis.series import Columns, SeriesRow, downsample
from load_manager.models.records import MetricsSample

START = 1_700_000_000_000


def _store(any_stores, run_id: str, seconds: int = 20, account: str = "acct", **kwargs) -> list[MetricsSample]:
    stored = list(samples(run_id, START, seconds, **kwargs))
    for sample in stored:
        any_stores.metrics.append(account, sample)
    return stored


def _rows(stored: list[MetricsSample], endpoint: str | None = None) -> list[SeriesRow]:
    """The samples as the series see them (all requests, or one endpoint's figures)."""
    if endpoint is None:
        return [SeriesRow(s.at, s.users, s.rps, s.failures_per_second, s.p50_ms, s.p95_ms, s.p99_ms) for s in stored]
    rows = []
    for s in stored:
        e = next(e for e in s.endpoints if f"{e['method']} {e['name']}" == endpoint)
        rows.append(SeriesRow(s.at, s.users, e["rps"], e["failuresPerSecond"], e["p50Ms"], e["p95Ms"], e["p99Ms"]))
    return rows


def _same(columns: Columns, expected: Columns) -> None:
    assert columns.time == expected.time
    for name in ("users", "rps", "failures_per_second", "p50_ms", "p95_ms", "p99_ms"):
        assert getattr(columns, name) == pytest.approx(getattr(expected, name)), name


@pytest.mark.parametrize("step", [1000, 4000, 7000, 60_000])
def test_buckets_downsample_in_the_store_exactly_as_the_rule_says(any_stores, step):
    stored = _store(any_stores, "r1", seconds=120)
    _store(any_stores, "r1", account="other", seconds=60)  # another tenant's samples under the same run id stay apart
    _store(any_stores, "r2", seconds=60)
    _same(any_stores.metrics.buckets("acct", "r1", endpoint=None, start=None, end=None, origin=START, step=step), downsample(_rows(stored), START, step))
    window = any_stores.metrics.buckets("acct", "r1", endpoint=None, start=stored[10].at, end=stored[30].at, origin=START, step=step)
    _same(window, downsample(_rows(stored[10:31]), START, step))  # inclusive bounds
    assert any_stores.metrics.buckets("nobody", "r1", endpoint=None, start=None, end=None, origin=START, step=step).time == []


def test_buckets_of_one_endpoint(any_stores):
    stored = _store(any_stores, "r1", seconds=60, endpoints=("GET /", "POST /items"))
    got = any_stores.metrics.buckets("acct", "r1", endpoint="POST /items", start=None, end=None, origin=START, step=4000)
    _same(got, downsample(_rows(stored, "POST /items"), START, 4000))
    assert got.p95_ms[0] == 31.0
    assert any_stores.metrics.buckets("acct", "r1", endpoint="GET /missing", start=None, end=None, origin=START, step=4000).time == []


def test_buckets_keep_missing_figures_missing(any_stores):
    # Figures a sample may lack: percentiles before any request, an endpoint row's rates in older samples.
    sparse = MetricsSample(run_id="r3", at=START + 500, users=2, rps=4.0, failures_per_second=2.0, endpoints=[{"method": "GET", "name": "/", "requests": 5}])
    any_stores.metrics.append("acct", sparse)
    later = {"at": START + 900, "users": 3, "p95_ms": 9.0, "endpoints": [{"method": "GET", "name": "/", "requests": 9, "rps": 7.0}]}
    any_stores.metrics.append("acct", sparse.model_copy(update=later))
    got = any_stores.metrics.buckets("acct", "r3", endpoint=None, start=None, end=None, origin=START, step=4000)
    assert (got.users, got.rps, got.failures_per_second, got.p95_ms, got.p50_ms) == ([3], [4.0], [2.0], [9.0], [None])
    got = any_stores.metrics.buckets("acct", "r3", endpoint="GET /", start=None, end=None, origin=START, step=4000)
    assert (got.users, got.rps, got.failures_per_second, got.p95_ms) == ([3], [7.0], [None], [None])


def test_a_final_series_is_kept_per_run_endpoint_and_tenant(any_stores):
    any_stores.metrics.save_final_series("acct", "r1", None, '{"time":[1]}')
    any_stores.metrics.save_final_series("acct", "r1", "GET /", '{"time":[2]}')
    any_stores.metrics.save_final_series("acct", "r1", None, '{"time":[3]}')  # a retried Finalize replaces it
    assert any_stores.metrics.final_series("acct", "r1", None) == '{"time":[3]}'
    assert any_stores.metrics.final_series("acct", "r1", "GET /") == '{"time":[2]}'
    assert any_stores.metrics.final_series("other", "r1", None) is None
    assert any_stores.metrics.final_series("acct", "r2", None) is None


def test_counts_before_a_time_come_from_the_latest_sample_at_or_before_it(any_stores):
    stored = _store(any_stores, "r1")
    third = stored[2]
    assert any_stores.metrics.counts_before("acct", "r1", third.at) == Counts(third.at, third.total_requests, third.total_failures)
    assert any_stores.metrics.counts_before("acct", "r1", third.at + 1999) == Counts(third.at, third.total_requests, third.total_failures)
    assert any_stores.metrics.counts_before("acct", "r1", stored[0].at - 1) is None
    assert any_stores.metrics.counts_before("other", "r1", third.at) is None
    legacy = MetricsSample(run_id="r3", at=START, users=1, rps=1.0, failures_per_second=0.0)  # stored before counts were
    any_stores.metrics.append("acct", legacy)
    assert any_stores.metrics.counts_before("acct", "r3", START) is None


def test_latest_sample(any_stores):
    stored = _store(any_stores, "r1")
    assert any_stores.metrics.latest("acct", "r1") == stored[-1]
    assert any_stores.metrics.latest("other", "r1") is None


def test_finished_runs_of_a_test_newest_first(any_stores):
    runs = [finished_run("acct", "t" * 32, "r" * 32, 1, START + i * 60_000, 30) for i in range(5)]
    for run in runs:
        any_stores.runs.insert(run)
    any_stores.runs.insert(finished_run("acct", "t" * 32, "r" * 32, 1, START, 30, status="Failed"))
    any_stores.runs.insert(finished_run("acct", "u" * 32, "r" * 32, 1, START, 30))
    found = any_stores.runs.list("acct", "t" * 32, status="Finished", limit=3, after=None)
    assert [r.id for r in found] == [r.id for r in reversed(runs)][:3]


# ---- served by an index -------------------------------------------------------------------------


def _sqlite_plans(stores, call) -> list[str]:
    """EXPLAIN QUERY PLAN of every statement `call` runs on this thread's connection."""
    conn = stores.runs.db.connection()
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        call()
    finally:
        conn.set_trace_callback(None)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert selects, "the call ran no query"
    return [" | ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {s}")) for s in selects]


def test_trends_and_series_queries_use_an_index_and_never_sort(any_stores, request):
    kind = request.node.callspec.params["any_stores"]
    test_id = "t" * 32
    trends = lambda: any_stores.runs.list("acct", test_id, status="Finished", limit=10, after=None)  # noqa: E731
    series = lambda: any_stores.metrics.buckets("acct", "r1", endpoint=None, start=START, end=None, origin=START, step=4000)  # noqa: E731
    final = lambda: any_stores.metrics.final_series("acct", "r1", None)  # noqa: E731
    counts = lambda: any_stores.metrics.counts_before("acct", "r1", START)  # noqa: E731
    if kind == "sqlite":
        for plan in _sqlite_plans(any_stores, trends) + _sqlite_plans(any_stores, final) + _sqlite_plans(any_stores, counts):
            assert ("USING INDEX" in plan or "USING PRIMARY KEY" in plan) and "TEMP B-TREE" not in plan, plan
        # Grouping on read searches the run's rows by key; it sorts its buckets (never the table).
        [plan] = _sqlite_plans(any_stores, series)
        assert "SEARCH run_metric_points USING PRIMARY KEY" in plan and "SCAN" not in plan, plan
        return
    runs, metrics = any_stores.runs.collection, any_stores.metrics.collection
    keys = {name: list(spec["key"]) for name, spec in runs.index_information().items()}
    assert keys["by_status_time"] == [("accountId", 1), ("loadTestId", 1), ("status", 1), ("createdAt", -1), ("id", -1)]
    assert list(metrics.index_information()["by_run"]["key"]) == [("runId", 1), ("at", 1)]
    final = any_stores.metrics.final_collection.index_information()["series_unique"]
    assert list(final["key"]) == [("accountId", 1), ("runId", 1), ("endpoint", 1)] and final["unique"]
    if kind == "mongodb":  # a real server says how it would run them
        for plan in (
            runs.find({"accountId": "acct", "loadTestId": test_id, "status": "Finished"}).sort([("createdAt", -1), ("id", -1)]).limit(10).explain(),
            metrics.find({"runId": "r1", "accountId": "acct", "at": {"$gte": START}}).sort("at", 1).explain(),
        ):
            text = str(plan["queryPlanner"]["winningPlan"])
            assert "IXSCAN" in text and "COLLSCAN" not in text and "'SORT'" not in text, text


def test_sqlite_fills_the_series_rows_of_samples_stored_before_they_existed(tmp_path):
    from load_manager.store.sqlite import build_sqlite_stores

    path = str(tmp_path / "old.db")
    old = build_sqlite_stores(path)
    stored = list(samples("r1", START, 10))
    conn = old.metrics.db.connection()
    for sample in stored:  # what the store wrote before the series rows existed: the sample document only
        conn.execute("INSERT INTO run_metrics (run_id, account_id, at, doc) VALUES (?, ?, ?, ?)",
                     (sample.run_id, "acct", sample.at, sample.model_dump_json(by_alias=True)))  # fmt: skip
    conn.execute("DROP TABLE run_metric_points")
    upgraded = build_sqlite_stores(path)
    rows = upgraded.metrics.buckets("acct", "r1", endpoint=None, start=None, end=None, origin=START, step=1000)
    assert list(zip(rows.time, rows.p95_ms, strict=True)) == [(s.at, s.p95_ms) for s in stored]
    assert len(upgraded.metrics.buckets("acct", "r1", endpoint="GET /items", start=None, end=None, origin=START, step=1000).time) == len(stored)
    assert upgraded.metrics.counts_before("acct", "r1", stored[-1].at) == Counts(stored[-1].at, stored[-1].total_requests, stored[-1].total_failures)
    build_sqlite_stores(path)  # once only: a second start copies nothing twice
    assert len(upgraded.metrics.buckets("acct", "r1", endpoint=None, start=None, end=None, origin=START, step=1000).time) == len(stored)
