"""Building results for tests and benchmarks: final figures, synthetic runs and their samples."""

from __future__ import annotations

from load_manager.analysis.series import step_for
from load_manager.ids import new_id
from load_manager.models.records import MetricsSample
from load_manager.models.runs import EndpointSummary, Run, RunSummary, StatusChange


def summary(**figures) -> RunSummary:
    base = dict(total_requests=1000, total_failures=10, fail_ratio=0.01, rps=100.0, p50_ms=10.0, p90_ms=40.0, p95_ms=50.0,
                p99_ms=90.0, avg_ms=15.0, max_ms=300.0, duration_seconds=10.0)  # fmt: skip
    return RunSummary(**{**base, **figures})


def endpoint(name: str, method: str = "GET", requests: int = 500, failures: int = 0, **figures) -> EndpointSummary:
    base = dict(avg_ms=12.0, min_ms=1.0, max_ms=100.0, p50_ms=10.0, p90_ms=30.0, p95_ms=40.0, p99_ms=80.0, rps=50.0)
    return EndpointSummary(method=method, name=name, requests=requests, failures=failures, **{**base, **figures})


def finished_run(account: str, test_id: str, revision_id: str, revision_number: int, started_at: int, duration_seconds: int, **fields) -> Run:
    """A Finished run as the lifecycle leaves one (results included), without running anything."""
    values = dict(
        id=new_id(), account_id=account, load_test_id=test_id, status="Finished",
        status_history=[StatusChange(status="Finished", at=started_at + duration_seconds * 1000, actor="system")],
        script_revision_id=revision_id, revision_number=revision_number, script_sha256="0" * 64, target_url="http://127.0.0.1:9",
        target_users=50, spawn_rate=50, duration_seconds=duration_seconds, workers=1, created_at=started_at - 1000, created_by="qa@example.com",
        started_at=started_at, ended_at=started_at + duration_seconds * 1000, summary=summary(),
        endpoints=[endpoint("/"), endpoint("/items", p95_ms=60.0)], series_step_ms=step_for((duration_seconds + 120) * 1000),
    )  # fmt: skip
    return Run(**{**values, **fields})


def store_samples(stores, account: str, run: Run, made) -> list[MetricsSample]:
    """Append samples as PollRun does."""
    stored = list(made)
    for sample in stored:
        stores.metrics.append(account, sample)
    return stored


def samples(run_id: str, started_at: int, seconds: int, every_seconds: int = 2, endpoints: tuple[str, ...] = ("GET /", "GET /items"), slower_ms: float = 0):
    """A run's samples, as PollRun stores them, one every `every_seconds`: a ramp, then steady load
    (`slower_ms` added to every percentile)."""
    for i in range(1, seconds // every_seconds + 1):
        requests = i * every_seconds * 100
        yield MetricsSample(
            run_id=run_id, at=started_at + i * every_seconds * 1000, users=min(50, i * 5), rps=100.0 + i % 7, failures_per_second=0.5,
            p50_ms=10.0 + i % 3 + slower_ms, p95_ms=40.0 + i % 11 + slower_ms, p99_ms=80.0 + i % 13 + slower_ms,
            total_requests=requests, total_failures=requests // 200,
            endpoints=[
                {"method": e.split(" ", 1)[0], "name": e.split(" ", 1)[1], "requests": requests // len(endpoints), "failures": 0,
                 "rps": 50.0, "failuresPerSecond": 0.0, "p50Ms": 9.0, "p95Ms": 30.0 + k, "p99Ms": 70.0 + k}
                for k, e in enumerate(endpoints)
            ],
        )  # fmt: skip
