"""Reading one run, or one load test, as its tenant sees it: what the areas that show one (results,
pages, generators, automation) need of the runs and load tests areas, without those areas' other use
cases and models (a start, a create, the list), so that reading one costs a function no more than
the models it reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from load_manager.errors import LoadTestNotFoundError, RunNotFoundError
from load_manager.ids import is_id

if TYPE_CHECKING:  # annotations only
    from load_manager.identity import Caller
    from load_manager.models.load_test_reads import LoadTest
    from load_manager.models.runs import Run
    from load_manager.store import Stores


# A caller scoped to some tests (an API token's `loadTestIds`) finds no other test nor anything of
# one: a 404 exactly as another tenant's. These two are where the areas fetch a test or a run for a caller.


def get_run(stores: Stores, caller: Caller, run_id: str) -> Run:
    run = stores.runs.get(caller.account_id, run_id) if is_id(run_id) else None
    if run is None or not caller.sees_test(run.load_test_id):
        raise RunNotFoundError(f"run {run_id!r} not found")
    return run


def get_test(stores: Stores, caller: Caller, test_id: str) -> LoadTest:
    test = stores.load_tests.get(caller.account_id, test_id) if is_id(test_id) and caller.sees_test(test_id) else None
    if test is None:
        raise LoadTestNotFoundError(f"load test {test_id!r} not found")
    return test
