"""AWS API calls per PollRun of a distributed run on ECS, before and after the handle learnt at
begin (the master's address, the workers' task ARNs) was stored with the run.

A real run on the ECS stand-in (tests/support/ecs_standin.py: moto's ECS and S3 over HTTP, real
Locust master + 2 workers as local processes, the example target on loopback) is started through
the lifecycle's own StartRun step. Then PollRun is called N times with the handle as it is stored
now ("after"), and N times with the handle as the lifecycle used to keep it: the one recorded at
launch, which knows neither the master's address nor the workers ("before", the anchor). Calls are
counted with botocore's event hooks on the ECS and S3 clients (`before-call.*`), so retries are not
counted twice and nothing is mocked.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

from benchlib import ROOT, figure, log, use_project_tree

use_project_tree()
sys.path.insert(0, str(ROOT / "tests"))

POLLS = 10


def run(quick: bool) -> list[dict]:
    polls = 4 if quick else POLLS
    from support.ecs_standin import EcsStandIn  # noqa: PLC0415 - test support, imported after sys.path

    from load_manager.backends.ecs import EcsLocustBackend
    from load_manager.lifecycle import steps
    from load_manager.settings import Settings, set_settings
    from load_manager.store.sqlite import build_sqlite_stores

    target_module = _target_module()
    target = target_module.start_target(port=0)
    work = Path(tempfile.mkdtemp(prefix="bench-aws-calls-"))
    try:
        with EcsStandIn(root=work / "tasks") as standin:
            calls: Counter[str] = Counter()
            for client in (standin.ecs, standin.s3):
                client.meta.events.register("before-call.*.*", lambda event_name, **_: calls.update([event_name.split(".")[-1]]))
            set_settings(Settings(data_dir=str(work), sqlite_path=str(work / "lm.db"), default_backend="ecs", min_poll_seconds=1))
            stores = build_sqlite_stores(str(work / "lm.db"))

            def factory(_cluster):
                return EcsLocustBackend(
                    standin.settings, ecs_client=standin.ecs, s3_client=standin.s3, poll_interval=0.2, swarm_timeout=15
                )

            run_id, account = _create_run(stores, target.url)
            launch_handle: dict = {}
            original_claim = stores.runs.claim_handle

            def remember_launch(account_id, rid, handle):
                launch_handle.update(handle)
                return original_claim(account_id, rid, handle)

            stores.runs.claim_handle = remember_launch  # type: ignore[method-assign]
            log("starting a distributed run on the ECS stand-in")
            steps.start(stores, factory, run_id, account)
            after = _calls_per_poll(stores, factory, run_id, account, calls, polls)
            stored_after_begin = stores.runs.get_handle(account, run_id)
            _replace_handle(stores, run_id, launch_handle)
            before = _calls_per_poll(stores, factory, run_id, account, calls, polls)
            _replace_handle(stores, run_id, stored_after_begin)
            steps.finalize(stores, factory, run_id, account)
    finally:
        target.stop()
        set_settings(None)
    return [
        figure(
            "aws_calls_per_poll",
            measured="AWS API calls per PollRun with the handle stored after begin (master address and worker ARNs known)",
            anchor="AWS API calls per PollRun with the handle recorded at launch (the lifecycle before this change)",
            value=after["per_poll"],
            anchor_value=before["per_poll"],
            unit="calls/poll",
            max_ratio=1.0,
            samples=polls,
            details={"after": after, "before": before, "target_calls_per_poll": 2, "met_absolute": after["per_poll"] <= 2},
        )
    ]


def _calls_per_poll(stores, factory, run_id: str, account: str, calls: Counter, polls: int) -> dict:
    from load_manager.lifecycle import steps

    calls.clear()
    for _ in range(polls):
        steps.poll(stores, factory, run_id, account)
    return {"per_poll": sum(calls.values()) / polls, "by_operation": dict(calls)}


def _replace_handle(stores, run_id: str, handle: dict) -> None:
    import json

    with stores.runs.db.write() as conn:
        conn.execute("UPDATE load_test_runs SET cluster_handle = ? WHERE id = ?", (json.dumps(handle), run_id))


def _create_run(stores, target_url: str) -> tuple[str, str]:
    import base64

    from load_manager.identity import Caller
    from load_manager.models.load_tests import CreateLoadTestRequest
    from load_manager.models.runs import StartRunRequest
    from load_manager.usecases import load_tests, runs

    caller = Caller(subject="bench", email="bench@localhost", account_id="bench", groups=frozenset())
    script = (ROOT / "examples" / "locustfile.py").read_text()
    test = load_tests.create(
        stores, caller,
        CreateLoadTestRequest.model_validate({"name": "bench", "scriptContent": base64.b64encode(script.encode()).decode(), "targetUrl": target_url}),
    )  # fmt: skip

    class NoExecution:
        def start(self, run):
            return f"arn:aws:states:us-east-1:123456789012:execution:bench:{run.id}"

    start = StartRunRequest.model_validate({"targetUsers": 4, "spawnRate": 4, "durationSeconds": 600, "workers": 2})
    run, _ = runs.start_run(stores, NoExecution, caller, test.id, start, None)
    return run.id, run.account_id


def _target_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_target_service", ROOT / "examples" / "target_service.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
