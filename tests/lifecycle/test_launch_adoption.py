"""A run has one Locust cluster, whatever fails after its launch: StartRun records the launch (its
id) before launching, and a retry finds that launch's cluster and adopts it (lifecycle/launches.py).
Here the store write that records the launched cluster fails right after the launch (a locked
SQLite database, a MongoDB blip: transient, so the state machine retries StartRun), or the function
dies there: on the fake backend through the real ASL, and on the real local backend with real Locust
against the example target."""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from collections.abc import Callable

import pytest
from support.crash_points import Crash
from support.fake_backend import FakeBackend
from support.lifecycle import CALLER, RecordingStarter, walk
from support.runs import assert_no_locust_left, locust_work_dirs
from support.scripts import SIMPLE, b64

from load_manager.backends.base import BackendUnavailableError, ClusterSpec
from load_manager.backends.local import LocalLocustBackend
from load_manager.lifecycle.dispatch import run_step
from load_manager.lifecycle.step_errors import RetryableStepError
from load_manager.models.load_tests import CreateLoadTestRequest
from load_manager.models.runs import StartRunRequest
from load_manager.usecases import load_tests, runs

pytestmark = pytest.mark.usefixtures("fast_settings")


class FailsTheWriteAfterLaunch:
    """The run store, whose first write after the backend's launch fails once with `error`."""

    def __init__(self, runs_store, launched: Callable[[], bool], error: BaseException):
        self._runs, self._launched, self._error = runs_store, launched, error
        self.failed: str | None = None

    def __getattr__(self, name):
        attr = getattr(self._runs, name)
        if name.startswith(("get", "list", "find", "has", "pending")) or not callable(attr):
            return attr

        def write(*args, **kwargs):
            if self.failed is None and self._launched():
                self.failed = name
                raise self._error
            return attr(*args, **kwargs)

        return write


def transient_store_error(any_stores) -> Exception:
    if type(any_stores.runs).__name__.startswith("SQLite"):
        return sqlite3.OperationalError("database is locked")
    from pymongo.errors import AutoReconnect

    return AutoReconnect("connection closed")  # a MongoDB blip: pymongo's ConnectionFailure


def make_run(stores, target_url: str, duration_seconds: int):
    request = CreateLoadTestRequest.model_validate({"name": "adopt", "scriptContent": b64(SIMPLE), "targetUrl": target_url})
    test = load_tests.create(stores, CALLER, request)
    run, _ = runs.start_run(stores, RecordingStarter, CALLER, test.id, StartRunRequest.model_validate({"durationSeconds": duration_seconds, "targetUsers": 2}), None)
    return run


def test_the_launch_record_failing_after_launch_leaves_exactly_one_cluster_on_the_fake_backend(any_stores):
    run = make_run(any_stores, "http://127.0.0.1:9", duration_seconds=1)
    backend = FakeBackend()
    failing = FailsTheWriteAfterLaunch(any_stores.runs, lambda: "launch" in backend.calls, transient_store_error(any_stores))
    execution = walk(dataclasses.replace(any_stores, runs=failing), backend, run)
    assert failing.failed == "update_handle", "the write that records the launched cluster"
    assert execution.retries == [("StartRun", "RetryableStepError")]
    assert execution.status == "SUCCEEDED" and any_stores.runs.get(run.account_id, run.id).status == "Finished"
    assert backend.calls.count("launch") == 1 and len(backend.clusters) == 1, "the retry adopted the first cluster"
    (cluster,) = backend.clusters.values()
    assert cluster.began and cluster.torn_down and backend.live_clusters() == []
    assert any_stores.runs.get_handle(run.account_id, run.id)["launch_id"] == cluster.handle.launch_id


def test_a_second_launch_of_one_launch_id_is_refused_and_the_first_is_found(tmp_path, target, example_locustfile):
    backend = LocalLocustBackend(base_dir=str(tmp_path))
    spec = ClusterSpec(run_id="run-a", script=example_locustfile, target_url=target.url, users=1, spawn_rate=1, duration_seconds=30, launch_id="L1")
    first = backend.launch(spec)
    try:
        with pytest.raises(BackendUnavailableError, match="exists already"):
            backend.launch(spec)
        (found,) = backend.find_launches("run-a")
        assert (found.launch_id, found.details["pgid"], found.web_url) == ("L1", first.details["pgid"], first.web_url)
        assert backend.find_launches("run-a", "L2") == [] and backend.find_launches("run-b") == []
    finally:
        backend.teardown(first)
    assert backend.find_launches("run-a") == [] and list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.parametrize("failure", ["locked", "crash"])
def test_the_launch_record_failing_after_launch_leaves_exactly_one_real_locust_cluster(stores, target, tmp_path, failure):
    base = tmp_path / "clusters"
    base.mkdir()
    backend = LocalLocustBackend(base_dir=str(base), grace_seconds=2.0)
    run = make_run(stores, target.url, duration_seconds=2)
    calls: list[str] = []
    launch = backend.launch
    backend.launch = lambda spec: (calls.append("launch"), launch(spec))[1]  # type: ignore[method-assign]
    error = sqlite3.OperationalError("database is locked") if failure == "locked" else Crash("the function died")
    failing = dataclasses.replace(stores, runs=FailsTheWriteAfterLaunch(stores.runs, lambda: bool(calls), error))
    step = {"runId": run.id, "accountId": run.account_id}
    try:
        expected = RetryableStepError if failure == "locked" else Crash
        with pytest.raises(expected):
            run_step({"action": "start", **step}, failing, lambda _cluster: backend)
        (first,) = base.iterdir()  # launched, and not recorded
        assert stores.runs.get_handle(run.account_id, run.id)["launched"] is False

        # The state machine's retry (RetryableStepError, or Lambda.Unknown for the dead function).
        assert run_step({"action": "start", **step}, failing, lambda _cluster: backend)["done"] is False
        assert calls == ["launch"] and [p.name for p in base.iterdir()] == [first.name], "adopted, not launched again"
        assert {d.rsplit("/", 2)[-2] for d in locust_work_dirs(run.id)} == {first.name}
        assert stores.runs.get(run.account_id, run.id).status == "Running"
        deadline = time.monotonic() + 60
        while target.total_requests() == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        run_step({"action": "poll", **step}, stores, lambda _cluster: backend)
        run_step({"action": "finalize", **step}, stores, lambda _cluster: backend)
    finally:
        for handle in backend.find_launches(run.id):
            backend.teardown(handle)
    final = stores.runs.get(run.account_id, run.id)
    assert final.status == "Finished" and final.summary.total_requests > 0
    assert_no_locust_left(run.id)
    assert list(base.iterdir()) == []
