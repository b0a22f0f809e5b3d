"""A run's load generators as the API serves them: each Locust process's CPU and memory over the run,
downsampled on the run's own series step, and the saturation verdict (analysis/generators.py):
kept at Finalize for a final run, as it stands for a live one."""

from __future__ import annotations

from load_manager.analysis import generators
from load_manager.analysis.series import step_for
from load_manager.identity import Caller
from load_manager.models.base import FINAL_STATUSES
from load_manager.models.generators import RunGenerators
from load_manager.store import Stores
from load_manager.usecases.reads import get_run


def run_generators(stores: Stores, caller: Caller, run_id: str) -> RunGenerators:
    run = get_run(stores, caller, run_id)
    samples = stores.metrics.generator_readings(run.account_id, run.id)
    origin = run.started_at or run.created_at
    step = run.series_step_ms or step_for(max(run.duration_seconds * 1000, (run.ended_at or origin) - origin))
    final = run.status in FINAL_STATUSES
    return RunGenerators(
        run_id=run.id, origin=origin, step_ms=step, complete=final, generator_saturated=run.generator_saturated,
        health=run.generator_health if final else generators.judge(samples), generators=generators.series(samples, origin, step),
    )  # fmt: skip
