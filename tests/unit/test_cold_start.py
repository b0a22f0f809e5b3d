"""What each Lambda function does at its cold start (issue 16: each function imports only its own
area's models; `make bench` holds the API functions' `import app` to at most a bare Powertools
resolver plus pymongo, bench/cold_import.py).

Time is the bench's to measure; this holds what makes it. A function's `import app` creates the model
classes of the areas listed below and no other, builds none of them (each is built on first use:
models/base.py), builds no store and imports no client library. A new import that fails here: make
it where it is used, with its cost as measured (`python bench/cold_import.py --lazy`), or, when every
request of the function needs it, list it here and check that `make bench` still holds.

Also: the MongoDB stores are built per aggregate on first use (store/lazy.py), and a model deferred to
its first use builds once under concurrent first uses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import mongomock
import pytest
from pydantic import ValidationError

from load_manager.models.base import ApiModel, RequestModel
from load_manager.store.lazy import LazyStores
from load_manager.store.mongo import build_mongo_stores

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "core"

# The model modules (load_manager/models/<area>.py) each function's cold start may create.
START_MODELS = {"base", "criteria", "load_profiles", "run_requests", "run_variables"}  # what starts a run
RUN_MODELS = START_MODELS | {"generators", "runs", "run_summaries", "usage"}  # a Run and what it names (its usage, too)
LIFECYCLE_MODELS = RUN_MODELS | {"bundles", "clusters", "load_tests", "load_test_reads", "metrics", "records", "results", "revisions", "scripts"}
MODELS: dict[str, set[str]] = {
    "access": {"base", "tokens", "audit", "usage", "usage_answers", "me"},  # API tokens, the audit trail (and, as they join, the caller and usage)
    "authorizer": {"base", "tokens"},  # an API token's record (a JWT needs no model)
    "clusters": {"base", "clusters", "variables", "run_variables"},  # clusters, and variables and secrets per scope
    "console_publisher": set(),
    "load_tests": {"base", "bundles", "criteria", "load_profiles", "load_tests", "load_test_reads"},
    # A channel may belong to a test, checked through usecases.reads.get_test (which builds no model of the load tests area).
    "notifications": {"base", "notifications"},
    # A finished run's figures (run_summaries), not the Run (the store builds it); a comparison names both
    # runs' scripts; a baseline, the test.
    "results": {"base", "criteria", "generators", "load_profiles", "results", "run_summaries", "revisions", "load_test_reads", "bundles"},
    "runs": RUN_MODELS | {"revisions", "bundles", "usage_answers"},  # a run's exact script revision; a dry run's estimate
    "scripts": {"base", "bundles", "scripts", "revisions", "records"},  # records: a revision as stored
    "triggers": START_MODELS | {"automation"},  # a trigger or schedule starts runs (the runs use case: where it does)
    "run_workflow": LIFECYCLE_MODELS,  # not an API function: the lifecycle's steps
    "sweeper": LIFECYCLE_MODELS,
}
# Models built at import: none in an API function (a page names its items itself: parametrizing a
# generic model builds it); in the lifecycle functions, the step input and the default auto-stop
# settings every run falls back on. (The settings are checked dataclasses: load_manager/settings_types.py.)
BUILT_BY_LIFECYCLE = {"load_manager.lifecycle.dispatch.StepInput", "load_manager.models.criteria.AutoStopSettings"}
# Paid on a request that needs them (the Mongo driver on the first one that reads a store), never at import.
CLIENT_LIBRARIES = ("pymongo", "boto3", "requests", "locust", "gevent", "moto", "mongomock", "flask", "jinja2")

PROBE = """\
import inspect, json, sys
sys.path.insert(0, {function_dir!r})
import app
import pydantic
store = sys.modules.get("load_manager.store")
models = sorted(name.rsplit(".", 1)[1] for name in sys.modules if name.startswith("load_manager.models."))
built = sorted(
    f"{{name}}.{{attr}}" for name, module in list(sys.modules.items()) if name.startswith("load_manager")
    for attr, value in vars(module).items()
    if inspect.isclass(value) and issubclass(value, pydantic.BaseModel) and value.__module__ == name and value.__pydantic_complete__
)
print(json.dumps({{
    "handler": callable(getattr(app, "lambda_handler", None)),
    "models": models,
    "built": built,
    "clients": [name for name in {clients!r} if name in sys.modules],
    "stores_built": getattr(store, "_stores", None) is not None,
}}))
"""


def cold_start(function: str) -> dict:
    """`import app` of the function in a fresh interpreter, as Lambda runs it (the template's env)."""
    function_dir = ROOT / "functions" / function
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "POWERTOOLS_", "LOAD_MANAGER_"))}
    env.update(
        PYTHONPATH=str(LAYER), POWERTOOLS_SERVICE_NAME="load-manager", STORE_BACKEND="mongo", AWS_REGION="us-east-1",
        MONGODB_URI="mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=100", AWS_LAMBDA_FUNCTION_NAME=function,
    )  # fmt: skip
    code = PROBE.format(function_dir=str(function_dir), clients=CLIENT_LIBRARIES)
    proc = subprocess.run([sys.executable, "-c", code], cwd=function_dir, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_every_function_is_listed():
    assert sorted(MODELS) == sorted(p.parent.name for p in ROOT.glob("functions/*/app.py"))


@pytest.mark.parametrize("function", sorted(MODELS))
def test_a_cold_start_creates_its_areas_models_and_builds_nothing_it_can_leave_for_later(function):
    found = cold_start(function)

    assert found["handler"]
    extra = sorted(set(found["models"]) - MODELS[function])
    assert not extra, (
        f"functions/{function}/app.py now creates the models of {extra} at its cold start: import them where they are used "
        f"(with their measured cost: python bench/cold_import.py --lazy), or list them in MODELS if every request needs them"
    )
    lifecycle = function in ("run_workflow", "sweeper")
    allowed = BUILT_BY_LIFECYCLE if lifecycle else set()
    assert set(found["built"]) <= allowed, f"models built at import (they build on first use): {sorted(set(found['built']) - allowed)}"
    assert found["clients"] == [], f"client libraries imported at cold start: {found['clients']}"
    assert not found["stores_built"]


# ---- the stores, per aggregate on first use -------------------------------------------------------


def test_mongo_stores_are_built_per_aggregate_when_first_used():
    db: Any = mongomock.MongoClient()["lm_cold_start"]
    stores = build_mongo_stores(db)
    assert isinstance(stores, LazyStores) and stores.built() == []
    assert db.list_collection_names() == []  # no index created, no round trip, before a store is used

    runs = stores.runs
    assert stores.built() == ["runs"] and stores.runs is runs
    assert set(db.list_collection_names()) == {"load_test_runs"}
    assert "by_status_time" in db.load_test_runs.index_information()
    assert stores.runs.get("acct", "0" * 32) is None

    stores.load_tests.get("acct", "0" * 32)
    assert stores.built() == ["load_tests", "runs"]
    assert set(db.list_collection_names()) == {"load_test_runs", "load_tests"}


def test_a_store_is_built_once_under_concurrent_first_uses_and_a_store_set_on_it_is_kept():
    from dataclasses import fields

    from load_manager.store.ports import Stores

    calls: dict[str, int] = {}
    gate = threading.Barrier(8)

    def factory(name: str):
        def build() -> object:
            calls[name] = calls.get(name, 0) + 1
            return object()

        return build

    stores = LazyStores({f.name: factory(f.name) for f in fields(Stores)})
    seen: list[object] = []

    def first_use() -> None:
        gate.wait(10)
        seen.append(stores.runs)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert calls == {"runs": 1} and len(seen) == 8 and all(s is seen[0] for s in seen)
    fake = object()
    stores.holds = fake  # type: ignore[assignment]
    assert stores.holds is fake and "holds" not in calls
    with pytest.raises(AttributeError):
        stores.no_such_store  # noqa: B018
    with pytest.raises(ValueError, match="missing"):
        LazyStores({"runs": factory("runs")})


# ---- models built on first use ---------------------------------------------------------------------


def test_a_deferred_model_builds_once_on_concurrent_first_uses_and_validates_as_before():
    class Sample(RequestModel):  # a request model: unknown fields refused; field names taken as well as camelCase
        run_id: str
        target_users: int

    class Answer(ApiModel):
        sample: Sample
        count: int = 0

    assert not Sample.__pydantic_complete__ and not Answer.__pydantic_complete__
    gate = threading.Barrier(8)
    results: list[object] = []

    def use(i: int) -> None:
        gate.wait(10)
        try:
            results.append(Answer.model_validate({"sample": {"runId": f"r{i}", "target_users": i}, "count": i}))
        except Exception as exc:  # noqa: BLE001 - collected: the assertion below names it
            results.append(exc)

    threads = [threading.Thread(target=use, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(a.count for a in results if isinstance(a, Answer)) == list(range(8)), results
    assert Answer.__pydantic_complete__  # Sample's schema was built into Answer's; Sample builds on its own first use
    assert Answer.model_validate({"sample": {"runId": "r", "targetUsers": 3}}).model_dump(by_alias=True) == {
        "sample": {"runId": "r", "targetUsers": 3}, "count": 0,
    }  # fmt: skip
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Sample.model_validate({"runId": "r", "targetUsers": 1, "accountId": "smuggled"})
    assert Sample.__pydantic_complete__
