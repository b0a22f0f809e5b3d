"""Every endpoint's series in one pass, on every adapter: `endpoint_buckets` answers for each endpoint
exactly what `buckets(endpoint=...)` does (and so the rule, `downsample`); the final series are kept in
one write; and Finalize's `store_final_series` reads the samples a fixed number of times whatever the
number of endpoints, keeping the same encoded series a query per endpoint gave."""

from __future__ import annotations

import pytest
from support.results import endpoint, finished_run, samples

from load_manager.analysis.series import Columns, SeriesRow, downsample
from load_manager.models.records import MetricsSample
from load_manager.usecases import series as results  # the series use cases (moved out of usecases.results)

START = 1_700_000_000_000
ENDPOINTS = ("GET /", "POST /items", "GET /search by name", "PUT /ünïcode/✓")


def _store(any_stores, run_id: str, seconds: int = 60, account: str = "acct", endpoints=ENDPOINTS) -> list[MetricsSample]:
    stored = list(samples(run_id, START, seconds, endpoints=endpoints))
    for sample in stored:
        any_stores.metrics.append(account, sample)
    return stored


def _rows(stored: list[MetricsSample], endpoint: str) -> list[SeriesRow]:
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
def test_endpoint_buckets_are_each_endpoints_buckets_in_one_answer(any_stores, step):
    stored = _store(any_stores, "r1", seconds=120)
    _store(any_stores, "r1", account="other", endpoints=("GET /elsewhere",))  # another tenant's samples under the same run id
    _store(any_stores, "r2", endpoints=("GET /other-run",))
    got = any_stores.metrics.endpoint_buckets("acct", "r1", [*ENDPOINTS, "GET /never"], origin=START, step=step)
    assert sorted(got) == sorted(ENDPOINTS)  # an endpoint without samples has no entry
    for key in ENDPOINTS:
        one = any_stores.metrics.buckets("acct", "r1", endpoint=key, start=None, end=None, origin=START, step=step)
        _same(got[key], one)
        _same(got[key], downsample(_rows(stored, key), START, step))
    assert any_stores.metrics.endpoint_buckets("nobody", "r1", ENDPOINTS, origin=START, step=step) == {}
    assert sorted(any_stores.metrics.endpoint_buckets("acct", "r1", ENDPOINTS[:2], origin=START, step=step)) == sorted(ENDPOINTS[:2])


def test_endpoint_buckets_keep_missing_figures_missing_and_endpoints_a_sample_lacks(any_stores):
    first = MetricsSample(run_id="r3", at=START + 500, users=2, rps=4.0, failures_per_second=2.0, endpoints=[{"method": "GET", "name": "/", "requests": 5}])
    any_stores.metrics.append("acct", first)
    later = {"at": START + 5000, "users": 3, "endpoints": [{"method": "GET", "name": "/", "rps": 7.0, "p95Ms": 9.0}, {"method": "POST", "name": "/new", "rps": 1.0}]}
    any_stores.metrics.append("acct", first.model_copy(update=later))
    got = any_stores.metrics.endpoint_buckets("acct", "r3", ["GET /", "POST /new"], origin=START, step=4000)
    assert (got["GET /"].time, got["GET /"].users, got["GET /"].rps, got["GET /"].p95_ms, got["GET /"].p50_ms) == (
        [START, START + 4000], [2, 3], [None, 7.0], [None, 9.0], [None, None],
    )  # fmt: skip
    assert (got["POST /new"].time, got["POST /new"].rps, got["POST /new"].failures_per_second) == ([START + 4000], [1.0], [None])


def test_final_series_are_kept_in_one_write_per_run_endpoint_and_tenant(any_stores):
    any_stores.metrics.save_final_series_batch("acct", "r1", {None: '{"time":[1]}', "GET /": '{"time":[2]}', "POST /x": '{"time":[3]}'})
    any_stores.metrics.save_final_series_batch("acct", "r1", {None: '{"time":[4]}'})  # a retried Finalize replaces what it writes again
    any_stores.metrics.save_final_series_batch("acct", "r1", {})
    assert [any_stores.metrics.final_series("acct", "r1", e) for e in (None, "GET /", "POST /x")] == ['{"time":[4]}', '{"time":[2]}', '{"time":[3]}']
    assert any_stores.metrics.final_series("other", "r1", "GET /") is None


class CountingMetrics:
    """The adapter under test, counting the reads that go over a run's samples."""

    def __init__(self, metrics):
        self.metrics, self.reads = metrics, {"buckets": 0, "endpoint_buckets": 0}

    def __getattr__(self, name):
        if name in self.reads:
            self.reads[name] += 1
        return getattr(self.metrics, name)


@pytest.mark.parametrize("endpoints", [2, 12])
def test_finalize_reads_the_samples_the_same_number_of_times_whatever_the_endpoints(any_stores, endpoints):
    names = tuple(f"GET /e{i}" for i in range(endpoints))
    run = finished_run("acct", "t1", "rev", 1, START, 60, endpoints=[endpoint(n.split(" ", 1)[1]) for n in names])
    any_stores.runs.insert(run)
    stored = list(samples(run.id, START, 30, endpoints=names))
    for sample in stored:
        any_stores.metrics.append("acct", sample)
    # What a query per endpoint gave, encoded: the reference the single pass must keep.
    expected = {e: results._encoded(results.series_of(any_stores, run, results.SeriesQuery(endpoint=e))) for e in (None, *names)}
    counting = CountingMetrics(any_stores.metrics)
    any_stores.metrics = counting
    try:
        results.store_final_series(any_stores, run)
    finally:
        any_stores.metrics = counting.metrics
    assert counting.reads == {"buckets": 1, "endpoint_buckets": 1}
    assert {e: any_stores.metrics.final_series("acct", run.id, e) for e in (None, *names)} == expected

