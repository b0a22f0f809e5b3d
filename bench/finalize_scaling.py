"""Finalize's cost against the number of endpoints: a run with 500 endpoints against one with 5, the
same number of samples.

Finalize keeps the final run's default series (all requests and one per endpoint, encoded once) and
renders the results page. Its work is samples x endpoints rows: a run with 100x the endpoints may
cost up to ~100x (less, as the fixed part of Finalize weighs more on the small run). Target <= 100:
anything above means a pass over the samples per endpoint (samples x endpoints^2).

Each sample is a fresh run through the real steps (`lifecycle.steps`: StartRun, then the samples
appended as PollRun stores them, then the timed Finalize) with an in-memory Locust backend that
reports the run's endpoints at collect (`tests/support/fake_backend.py`). Store: SQLite (the local
default); the MongoDB adapter too when MONGODB_URI names a server (a database of its own, dropped
after). Not on mongomock: its $unwind deep-copies the whole document for each array element, so
its time grows with endpoints^2 whatever the pipeline; the contract suite holds the Mongo adapter to
one aggregation for every endpoint instead. The 5- and 500-endpoint runs alternate, order swapped
each round; the ratio is the median of paired ratios.
"""

from __future__ import annotations

import gc
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from typing import Any

from benchlib import ROOT, figure, log, median, paired_ratio, spread, use_project_tree

MAX_RATIO = 100.0
FEW, MANY = 5, 500


def _backend_class():
    from support.fake_backend import FakeBackend, _row

    from load_manager.backends.base import FinalResults

    @dataclass
    class ManyEndpointsBackend(FakeBackend):
        """Collects `endpoints` rows at Finalize, as a Locust master with that many names would."""

        endpoints: list[str] = field(default_factory=list)

        def collect(self, handle):
            self.calls.append("collect")
            rows = [replace(_row(1000), method=key.split(" ", 1)[0], name=key.split(" ", 1)[1]) for key in self.endpoints]
            return FinalResults(aggregated=_row(1000 * len(rows)), endpoints=rows, errors=[], fail_ratio=0.0, html_report=None, exit_code=None, log_tail="")

    return ManyEndpointsBackend


def _prepared_run(stores, backend_class, endpoints: int, samples: int) -> tuple[Any, Any]:
    """A Running run (StartRun done) with `samples` samples of `endpoints` endpoints: what Finalize meets."""
    from support.lifecycle import create_run
    from support.results import samples as made_samples

    from load_manager.lifecycle.dispatch import run_step

    names = tuple(f"GET /api/resource-{i}" for i in range(endpoints))
    backend = backend_class(endpoints=list(names))
    run = create_run(stores, duration_seconds=samples * 2)
    run_step({"action": "start", "runId": run.id, "accountId": run.account_id}, stores, backend.factory)
    run = stores.runs.get(run.account_id, run.id)
    for sample in made_samples(run.id, run.started_at, samples * 2, every_seconds=2, endpoints=names):
        stores.metrics.append(run.account_id, sample)
    return run, backend


def _finalize_ms(stores, run, backend, endpoints: int) -> float:
    from load_manager.lifecycle.dispatch import run_step

    gc.collect()
    started = time.perf_counter()
    run_step({"action": "finalize", "runId": run.id, "accountId": run.account_id}, stores, backend.factory)
    elapsed = (time.perf_counter() - started) * 1000
    ended = stores.runs.get(run.account_id, run.id)
    # The figure means something only if Finalize did its whole job: final results and every series kept.
    if ended.status != "Finished" or len(ended.endpoints) != endpoints or stores.metrics.final_series(run.account_id, run.id, f"GET /api/resource-{endpoints - 1}") is None:
        raise RuntimeError(f"Finalize did not finish the {endpoints}-endpoint run: {ended.status}, {len(ended.endpoints)} endpoints")
    return elapsed


def _measure(label: str, make_stores, samples: int, repetitions: int) -> dict[str, list[float]]:
    """Per round: a 5-endpoint Finalize, the 500-endpoint one, another 5-endpoint one; the round's
    anchor is the mean of the two that bracket the measured one (load that drifts during the round
    hits both sides alike; a 5-endpoint Finalize takes milliseconds, so one alone is noisy)."""
    from load_manager.store import set_stores

    backend_class = _backend_class()
    ms: dict[str, list[float]] = {"few": [], "many": []}
    for i in range(repetitions + 1):  # the first round warms up (imports, caches) and is dropped
        stores = make_stores(i)
        set_stores(stores)
        few = [_prepared_run(stores, backend_class, FEW, samples) for _ in range(2)]
        many = _prepared_run(stores, backend_class, MANY, samples)
        before = _finalize_ms(stores, *few[0], FEW)
        measured = _finalize_ms(stores, *many, MANY)
        after = _finalize_ms(stores, *few[1], FEW)
        if i > 0:
            ms["few"].append((before + after) / 2)
            ms["many"].append(measured)
        log(f"finalize_scaling.{label}: round {i}/{repetitions}: {FEW} endpoints {before:.1f} and {after:.1f} ms, {MANY} endpoints {measured:.1f} ms")
    set_stores(None)
    return ms


def _figure(label: str, store: str, samples: int, ms: dict[str, list[float]]) -> dict:
    return figure(
        f"finalize_scaling.{label}_{MANY}_vs_{FEW}_endpoints",
        measured=f"Finalize (lifecycle.steps, in process, {store}) of a run with {MANY} endpoints and {samples} samples",
        anchor=f"the same for a run with {FEW} endpoints and {samples} samples",
        value=median(ms["many"]), anchor_value=median(ms["few"]), unit="ms", max_ratio=MAX_RATIO, samples=len(ms["many"]),
        ratio=paired_ratio(ms["many"], ms["few"]), ratio_method=f"median over rounds of the {MANY}-endpoint Finalize / the mean of the two {FEW}-endpoint ones around it",
        details={
            "median_ms": {str(FEW): round(median(ms["few"]), 2), str(MANY): round(median(ms["many"]), 2)},
            "quartiles_ms": {k: {q: round(x, 2) for q, x in spread(v).items()} for k, v in ms.items()},
            "rows": {str(FEW): FEW * samples, str(MANY): MANY * samples},
            "note": f"linear cost is at most {MANY // FEW}x (the endpoint rows); a pass over the samples per endpoint would be ~{(MANY // FEW) ** 2}x",
        },
    )  # fmt: skip


def run(quick: bool) -> list[dict]:
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "load-manager-bench")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")  # Finalize warns that no event bus is set
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    os.environ["STORE_BACKEND"] = "sqlite"
    mongodb_uri = os.environ.pop("MONGODB_URI", None)
    os.environ.pop("EVENT_BUS_NAME", None)  # RunFinished goes nowhere: the bus is not what is measured
    use_project_tree()
    sys.path.insert(0, str(ROOT / "tests"))
    from load_manager.store.sqlite import build_sqlite_stores

    repetitions = 3 if quick else 7
    samples = int(os.environ.get("BENCH_FINALIZE_SAMPLES", 100 if quick else 300))
    figures = []
    with tempfile.TemporaryDirectory(prefix="lm-bench-finalize-") as tmp:
        os.environ["LOAD_MANAGER_DATA_DIR"] = tmp  # where Finalize keeps the results page
        ms = _measure("sqlite", lambda i: build_sqlite_stores(f"{tmp}/round{i}.db"), samples, repetitions)
        figures.append(_figure("sqlite", "SQLite", samples, ms))
        if mongodb_uri:
            figures.append(_mongo_figure(mongodb_uri, samples, repetitions))
        else:
            log("finalize_scaling: MONGODB_URI is not set, so the MongoDB adapter is not measured (mongomock's $unwind is itself quadratic)")
    return figures


def _mongo_figure(uri: str, samples: int, repetitions: int) -> dict:
    from pymongo import MongoClient

    from load_manager.store.mongo import build_mongo_stores

    client = MongoClient(uri, serverSelectionTimeoutMS=5000)
    names = [f"lm_bench_finalize_{os.getpid()}_{i}" for i in range(repetitions + 1)]
    try:
        ms = _measure("mongodb", lambda i: build_mongo_stores(client[names[i]]), samples, repetitions)
    finally:
        for name in names:
            client.drop_database(name)
    return _figure("mongodb", "MongoDB", samples, ms)
