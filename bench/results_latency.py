"""Results API latency against how much there is, on SQLite, through the real handlers.

- `metrics`: GET /v1/runs/{id}/metrics (the default answer: the whole run, downsampled) of a finished
  1 h run sampled every 2 s (1,800 samples, 901 points) against the same query on a 1 min run (30
  samples). Target <= 3. A final run's default series is encoded once at Finalize (as the lifecycle
  does; here `store_final_series` is called the same way) and answered from one row; details give
  the same answer computed on read (`from=`: grouped in SQLite over the run's narrow rows), which is
  what a live run's first load or a zoomed window costs.
- `trends` and `compare`: GET /v1/load-tests/{id}/trends?limit=10 and GET /v1/runs/compare (two
  runs of different revisions, with the diff) on a test with 1,000 Finished runs against one with
  10. Target <= 2: indexed, not scanned. Trends asks for the 10 latest on both, so the answers are the
  same size and the ratio isolates the number of runs stored.

Each dataset is its own SQLite file, made through the API (the test and its revisions) and the store
ports (runs and samples, as the lifecycle writes them: `tests/support/results.py`). Calls alternate
between the datasets after a warm-up; the ratio is the median of paired ratios.
"""

from __future__ import annotations

import base64
import gc
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchlib import ROOT, alternate, figure, log, median, paired_ratio, spread, use_project_tree

METRICS_MAX_RATIO = 3.0
INDEXED_MAX_RATIO = 2.0
ACCOUNT = "local"


@dataclass
class Dataset:
    label: str
    stores: Any
    test_id: str
    run_id: str  # the run the metrics and compare calls read
    base_id: str  # what compare compares it with


def _api():
    from load_manager_local.api import InProcessApi

    return InProcessApi()


def _new_test(api, stores) -> str:
    from load_manager.store import set_stores

    set_stores(stores)
    script = (ROOT / "examples" / "locustfile.py").read_text()
    body = {"name": "bench", "scriptContent": base64.b64encode(script.encode()).decode(), "targetUrl": "http://127.0.0.1:9"}
    test_id = api.request("POST", "/v1/load-tests", body=body).json()["id"]
    edited = script.replace("@task(5)", "@task(8)")
    assert api.request("PUT", f"/v1/load-tests/{test_id}/script", body={"scriptContent": base64.b64encode(edited.encode()).decode()}).status == 201
    return test_id


def metrics_dataset(api, path: str, seconds: int) -> Dataset:
    from support.results import finished_run, samples, store_samples

    from load_manager.store.sqlite import build_sqlite_stores
    from load_manager.usecases import series

    stores = build_sqlite_stores(path)
    test_id = _new_test(api, stores)
    revision = stores.revisions.latest(ACCOUNT, test_id)
    run = finished_run(ACCOUNT, test_id, revision.id, revision.revision_number, 1_700_000_000_000, seconds)
    stores.runs.insert(run)
    store_samples(stores, ACCOUNT, run, samples(run.id, run.started_at, seconds, every_seconds=2))
    series.store_final_series(stores, run)  # what Finalize keeps of a final run
    return Dataset(f"{seconds}s", stores, test_id, run.id, run.id)


def runs_dataset(api, path: str, count: int) -> Dataset:
    from support.results import finished_run

    from load_manager.store.sqlite import build_sqlite_stores

    stores = build_sqlite_stores(path)
    test_id = _new_test(api, stores)
    first, second = (stores.revisions.get_by_number(ACCOUNT, test_id, n) for n in (1, 2))
    made = []
    for i in range(count):  # half on each revision; the newest compared with the oldest
        revision = first if i < count // 2 else second
        run = finished_run(ACCOUNT, test_id, revision.id, revision.revision_number, 1_700_000_000_000 + i * 600_000, 60)
        stores.runs.insert(run)
        made.append(run.id)
    return Dataset(f"{count} runs", stores, test_id, made[-1], made[0])


def _checked(api, path: str, query: str, check: Callable[[dict], bool]) -> Callable[[Dataset], None]:
    seen: set[str] = set()

    def call(ds: Dataset) -> None:
        response = api.request("GET", path.format(test=ds.test_id, run=ds.run_id), query=query.format(run=ds.run_id, base=ds.base_id))
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status} {response.body[:300]!r}")
        if ds.label not in seen:  # the figure means something only if the answer is the expected one
            if not check(response.json()):
                raise RuntimeError(f"{path} on {ds.label} answered unexpectedly: {response.body[:300]!r}")
            seen.add(ds.label)

    return call


def _figure(name: str, measured: str, anchor: str, large: Dataset, small: Dataset, ms: dict[str, list[float]], target: float, extra: dict) -> dict:
    return figure(
        name, measured=measured, anchor=anchor, value=median(ms[large.label]), anchor_value=median(ms[small.label]), unit="ms",
        max_ratio=target, samples=len(ms[large.label]), ratio=paired_ratio(ms[large.label], ms[small.label]),
        ratio_method=f"median over iterations of the {large.label} call / the {small.label} call beside it",
        details={"median_ms": {k: round(median(v), 3) for k, v in ms.items()},
                 "quartiles_ms": {k: {q: round(x, 3) for q, x in spread(v).items()} for k, v in ms.items()}, **extra},
    )  # fmt: skip


def run(quick: bool) -> list[dict]:
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "load-manager-bench")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    os.environ["STORE_BACKEND"] = "sqlite"
    os.environ.pop("MONGODB_URI", None)
    use_project_tree()
    sys.path.insert(0, str(ROOT / "tests"))
    from load_manager.store import set_stores

    calls, warmup = (40, 10) if quick else (150, 30)
    api = _api()
    figures = []
    with tempfile.TemporaryDirectory(prefix="lm-bench-results-") as tmp:
        os.environ["LOAD_MANAGER_DATA_DIR"] = tmp
        try:
            started = time.perf_counter()
            hour, minute = metrics_dataset(api, f"{tmp}/hour.db", 3600), metrics_dataset(api, f"{tmp}/minute.db", 60)
            many, few = runs_dataset(api, f"{tmp}/many.db", 1000), runs_dataset(api, f"{tmp}/few.db", 10)
            log(f"results_latency: populated in {time.perf_counter() - started:.1f}s; {calls} calls per figure and dataset")
            gc.collect()

            def points(body: dict) -> bool:
                return len(body["time"]) in (30, 901) and len(body["p95Ms"]) == len(body["time"])

            ms = alternate([minute, hour], _checked(api, "/v1/runs/{run}/metrics", "", points), warmup, calls, lambda ds: ds.label)
            # Context: the same answer computed on read (what a live run's first load, or any window, costs).
            computed = alternate([minute, hour], _checked(api, "/v1/runs/{run}/metrics", "from=1700000000000", points), warmup, calls, lambda ds: ds.label)
            figures.append(_figure(
                "results_latency.metrics_1h_vs_1min", "median latency of GET /v1/runs/{id}/metrics (whole run, default step) of a finished 1 h run "
                "sampled every 2 s (1,800 samples -> 901 points), real handler, SQLite", "the same call on a 1 min run (30 samples -> 30 points)",
                hour, minute, ms, METRICS_MAX_RATIO, {
                    "points": {"1h": 901, "1min": 30},
                    "note": "a final run's default series is kept encoded at Finalize; computed_on_read is the same answer grouped from the samples",
                    "computed_on_read": {"median_ms": {k: round(median(v), 3) for k, v in computed.items()},
                                         "ratio": round(paired_ratio(computed[hour.label], computed[minute.label]), 3)},
                },
            ))  # fmt: skip

            trends = _checked(api, "/v1/load-tests/{test}/trends", "limit=10", lambda body: len(body["items"]) == 10)
            ms = alternate([few, many], trends, warmup, calls, lambda ds: ds.label)
            figures.append(_figure(
                "results_latency.trends_1000_vs_10_runs", "median latency of GET /v1/load-tests/{id}/trends?limit=10 on a test with 1,000 "
                "Finished runs, real handler, SQLite", "the same call on a test with 10 Finished runs (both answers: 10 rows)",
                many, few, ms, INDEXED_MAX_RATIO, {},
            ))  # fmt: skip

            compare = _checked(api, "/v1/runs/compare", "base={base}&target={run}", lambda body: body["scriptDiff"] is not None)
            ms = alternate([few, many], compare, warmup, calls, lambda ds: ds.label)
            figures.append(_figure(
                "results_latency.compare_1000_vs_10_runs", "median latency of GET /v1/runs/compare (revision 1 vs 2, with the diff) on a test "
                "with 1,000 Finished runs, real handler, SQLite", "the same call on a test with 10 Finished runs",
                many, few, ms, INDEXED_MAX_RATIO, {},
            ))  # fmt: skip
        finally:
            set_stores(None)
    return figures
