"""The rules that keep criteria and baselines valid when they are saved, so a run never meets a
surprise at Finalize: a regression criterion needs a baseline, and a baseline is a Finished run of
the same test (and tenant)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from load_manager.analysis.criteria import needs_baseline
from load_manager.errors import BaselineRequiredError, InvalidBaselineError
from load_manager.identity import Caller
from load_manager.ids import is_id
from load_manager.models.criteria import Criterion
from load_manager.store import Stores

if TYPE_CHECKING:  # annotations only: the load tests function checks criteria without the runs models
    from load_manager.models.runs import Run


def check_criteria(criteria: list[Criterion], baseline_run_id: str | None) -> None:
    if needs_baseline(criteria) and not baseline_run_id:
        raise BaselineRequiredError(
            "a criterion with maxRegressionPercent needs a baseline run: set the test's baseline "
            "(PUT /v1/load-tests/{id}/baseline) or pass baselineRunId with the run",
            details={"criteria": [i for i, c in enumerate(criteria) if c.max_regression_percent is not None]},
        )


def require_baseline_run(stores: Stores, caller: Caller, test_id: str, run_id: str) -> Run:
    run = stores.runs.get(caller.account_id, run_id) if is_id(run_id) else None
    if run is None or run.load_test_id != test_id:
        raise InvalidBaselineError(f"run {run_id[:64]!r} is not a run of load test {test_id!r}", details={"runId": run_id[:64]})
    if run.status != "Finished":
        raise InvalidBaselineError(f"a baseline must be a Finished run; {run_id} is {run.status}", details={"runId": run_id, "status": run.status})
    return run
