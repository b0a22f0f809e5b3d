"""Crash points: a function dies right after a chosen store write or AWS/backend call, then AWS does
what it does about it (the state machine's retries per the ASL, an event source's redelivery, the
sweeper every few minutes), and a test checks what is left.

- `Crash` is a BaseException, as a Lambda killed mid-invocation is: no `except Exception` of the
  product can catch it (only `finally` blocks run, as they would not even do in a killed process:
  the SQLite adapter's rollback-on-BaseException is moot, the crash comes after the write returned).
- `CrashPlan` counts the mutating calls of the armed invocation (every store method that is not a
  read, every backend call, PutEvents, StartExecution, S3 PutObject of a report) and raises `Crash`
  right after the `crash_at`-th. Armed once: the retry runs on a healthy function.
- A lifecycle step that crashed is reported to Step Functions as AWS reports a function that died
  (out of memory, timeout, runtime exit): `Lambda.Unknown` (docs: "Unhandled errors in Lambda are
  reported as Lambda.Unknown"), which the ASL's Retry takes like the Lambda service's errors.
- `FakeStepFunctions` starts executions by name (idempotent, as StartExecution named after the run
  is), answers DescribeExecution, and walks queued executions over the real ASL (support.asl) when
  told: in AWS they run asynchronously, after the request that started them has returned or died.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from load_manager.backends.base import ClusterHandle, ClusterSpec
from load_manager.lifecycle.dispatch import run_step
from load_manager.models.runs import Run
from load_manager.store import Stores
from support import asl
from support.clock import FakeClock
from support.fake_backend import FakeBackend
from support.lifecycle import ASL


class Crash(BaseException):
    """The function's process died here."""


# What Step Functions reports for a Lambda function that died: a dot in the name, as no Python class has.
LambdaUnknown: type[Exception] = type("Lambda.Unknown", (Exception,), {})

_READS = (
    "get", "list", "find", "has", "latest", "count", "pending_events", "with_pending_events", "referenced", "buckets",
    "endpoint_buckets", "final_series", "counts_before", "holds", "owned", "prune_candidates", "blobs_touched", "blobs_in_use",
)  # fmt: skip


@dataclass
class CrashPlan:
    crash_at: int | None = None  # 1-based index of the call to crash after; None: count only
    crash_after: str | None = None  # or: the first call of that name (e.g. "runs.insert")
    armed: bool = False
    used: bool = False
    calls: list[str] = field(default_factory=list)  # the armed invocation's calls, in order
    crashed: str | None = None

    def arm(self) -> bool:
        """Arm for the next invocation, once per plan."""
        if self.used:
            return False
        self.armed = self.used = True
        return True

    def after(self, name: str) -> None:
        if not self.armed:
            return
        self.calls.append(name)
        if self.crash_at == len(self.calls) or self.crash_after == name:
            self.armed = False
            self.crashed = name
            raise Crash(f"died after {name}")


class _Proxy:
    """Forwards to `target`; a mutating call is followed by `plan.after(<label>.<method>)`."""

    def __init__(self, target: Any, plan: CrashPlan, label: str, mutating: Callable[[str], bool]):
        self._target, self._plan, self._label, self._mutating = target, plan, label, mutating

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr) or not self._mutating(name):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            self._plan.after(f"{self._label}.{name}")
            return result

        return call


def crashing_stores(stores: Stores, plan: CrashPlan) -> Stores:
    """Every store of `stores` behind a proxy: each write is a crash point."""
    proxies = {f.name: _Proxy(getattr(stores, f.name), plan, f.name, lambda n: not n.startswith(_READS)) for f in dataclasses.fields(stores)}
    return dataclasses.replace(stores, **proxies)


class CrashingBackend:
    """The fake backend behind a proxy: each call of the port is a crash point."""

    def __init__(self, backend: FakeBackend, plan: CrashPlan):
        self.backend, self.plan, self.name = backend, plan, backend.name

    def factory(self, _cluster) -> CrashingBackend:
        return self

    def _call(self, name: str, *args: Any) -> Any:
        result = getattr(self.backend, name)(*args)
        self.plan.after(f"backend.{name}")
        return result

    def launch(self, spec: ClusterSpec) -> ClusterHandle:
        return self._call("launch", spec)

    def begin(self, handle, spec) -> None:
        return self._call("begin", handle, spec)

    def status(self, handle):
        return self._call("status", handle)

    def sample(self, handle):
        return self._call("sample", handle)

    def stop_load(self, handle) -> None:
        return self._call("stop_load", handle)

    def collect(self, handle):
        return self._call("collect", handle)

    def teardown(self, handle):
        return self._call("teardown", handle)

    def find_launches(self, run_id: str, launch_id: str | None = None):
        return self._call("find_launches", run_id, launch_id)

    def live_launches(self):
        return self._call("live_launches")

    def task_usage(self, handle):
        return self._call("task_usage", handle)


class RecordingBus:
    """The event bus: every PutEvents delivered (a consumer sees each), each a crash point."""

    def __init__(self, plan: CrashPlan):
        self.plan = plan
        self.deliveries: list[tuple[str, dict[str, Any]]] = []

    def publish(self, detail_type: str, detail: dict[str, Any], resources: list[str]) -> None:
        self.deliveries.append((detail_type, json.loads(json.dumps(detail, default=str))))
        self.plan.after(f"events.PutEvents({detail_type})")


class FakeStepFunctions:
    """StartExecution (named after the run: a second start is the first one), DescribeExecution,
    and the queued executions walked over the real ASL by `run_pending`."""

    def __init__(self, plan: CrashPlan, handler: asl.Handler):
        self.plan, self.handler = plan, handler
        self.executions: dict[str, dict[str, Any]] = {}
        self.queue: list[str] = []

    def start(self, run: Run) -> str:
        if run.id not in self.executions:
            self.executions[run.id] = {"status": "RUNNING", "input": {"runId": run.id, "accountId": run.account_id}}
            self.queue.append(run.id)
        self.plan.after("states.StartExecution")
        return f"arn:aws:states:us-east-1:123456789012:execution:lifecycle:{run.id}"

    def status(self, run: Run) -> str | None:
        execution = self.executions.get(run.id)
        return execution["status"] if execution else None

    def run_pending(self, clock: FakeClock) -> list[asl.Execution]:
        walked = []
        while self.queue:
            name = self.queue.pop(0)
            execution = asl.run(ASL, self.handler, self.executions[name]["input"], clock=clock)
            self.executions[name]["status"] = execution.status
            walked.append(execution)
        return walked


def lifecycle_handler(stores: Stores, backend: CrashingBackend, plan: CrashPlan, crash_action: str | None) -> asl.Handler:
    """run_workflow as Step Functions invokes it; the first invocation of `crash_action` is armed,
    and a crash reaches the state machine as `Lambda.Unknown`."""

    def handle(event: dict[str, Any]) -> dict[str, Any]:
        armed = event.get("action") == crash_action and plan.arm()
        try:
            return run_step(event, stores, backend.factory)
        except Crash:
            raise LambdaUnknown("RequestId: 1 Error: Runtime exited with error: signal: killed") from None
        finally:
            if armed:
                plan.armed = False

    return handle


def invoke_with_retries(plan: CrashPlan, invoke: Callable[[], Any], attempts: int, between: Callable[[], None] = lambda: None) -> Any:
    """An event source's delivery: the first invocation armed, delivered again while it dies (Lambda
    retries a failed asynchronous invocation twice, a minute or two apart: `attempts=3`); None when
    every attempt died (`attempts=1`: a client that gives up)."""
    plan.arm()
    for attempt in range(attempts):
        if attempt:
            between()
        try:
            return invoke()
        except Crash:
            continue
        finally:
            plan.armed = False
    return None
