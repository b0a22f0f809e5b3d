"""Event-triggered run start vs. an API-started run: what EventBridge delivery and the triggers
function add on top of `POST …/runs`.

Both sides run in process, against SQLite, with moto's Step Functions holding a state machine it
does not execute (so no Locust starts: this is the control plane's own cost), and the local bus of
`load-manager serve` (load_manager_local.aws: moto's EventBridge matching, the Lambda target
delivered on its worker thread to the real triggers function).

Measured: `PutEvents` of a CodeDeploy success (a new deployment id each time) to the triggers
function's return: the rule matched, the event delivered, the trigger read, the run stored and its
execution started through `start_run` with the event's idempotency key, the firing recorded.
Anchor: `POST /v1/load-tests/{id}/runs` with an `Idempotency-Key` through the real runs handler
(InProcessApi): the same use case, with a key, minus the bus. Alternated, order swapped each
iteration, after a warm-up; medians and the median of paired ratios.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
import uuid

from benchlib import figure, log, median, paired_ratio, spread, use_project_tree

TARGET_MAX_RATIO = 2.0
FUNCTION = "load-manager-triggers"
REGION = "us-east-1"
PATTERN = {"source": ["aws.codedeploy"], "detail": {"state": ["SUCCESS"], "application": ["bench"]}}
SCRIPT = 'from locust import HttpUser, task\n\n\nclass U(HttpUser):\n    @task\n    def index(self):\n        self.client.get("/")\n'


def _runtime(tmp: str):
    """Stores, settings, a non-executing state machine and the local bus; returns (api, bus, done)."""
    import boto3

    from load_manager.adapters.step_functions import default_starter
    from load_manager.settings import Settings, set_settings
    from load_manager.store import set_stores
    from load_manager.store.sqlite import build_sqlite_stores
    from load_manager_local.api import InProcessApi
    from load_manager_local.aws import BUS_NAME, LocalAws
    from load_manager_local.functions import load_function
    from load_manager_local.stepfunctions import function_arn

    noop = {"StartAt": "Noop", "States": {"Noop": {"Type": "Pass", "End": True}}}
    arn = boto3.client("stepfunctions", region_name=REGION).create_state_machine(
        name="bench", definition=json.dumps(noop), roleArn="arn:aws:iam::123456789012:role/states"
    )["stateMachineArn"]
    automation = {"event_bus_name": BUS_NAME, "triggers_function_arn": function_arn(FUNCTION, REGION), "scheduler_role_arn": "arn:r"}
    # The state machine executes nothing, so every run stays Pending: the concurrent-run quota is lifted.
    settings = {"sqlite_path": f"{tmp}/lm.db", "data_dir": tmp, "state_machine_arn": arn, "automation": automation, "quotas": {"concurrent_runs": 10_000}}
    set_settings(Settings.model_validate(settings))
    default_starter.cache_clear()
    set_stores(build_sqlite_stores(f"{tmp}/lm.db"))
    handler = load_function("triggers").lambda_handler
    done = threading.Event()

    def timed(event, context):
        try:
            return handler(event, context)
        finally:
            done.set()

    bus = LocalAws({FUNCTION: timed}, __import__("pathlib").Path(tmp), REGION, tick_seconds=0).start()
    return InProcessApi(), bus, done


def _post(api, path: str, body: dict, **headers) -> dict:
    answer = api.request("POST", path, body=body, headers=headers or None)
    if answer.status not in (200, 201):
        raise RuntimeError(f"POST {path}: {answer.status} {answer.body[:300]!r}")
    return answer.json()


def run(quick: bool) -> list[dict]:
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "load-manager-bench")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    use_project_tree()
    import boto3
    from moto import mock_aws

    from load_manager.settings import set_settings
    from load_manager.store import set_stores

    n, warmup = (20, 3) if quick else (80, 10)
    with mock_aws(), tempfile.TemporaryDirectory(prefix="lm-bench-triggers-") as tmp:
        api, bus, done = _runtime(tmp)
        try:
            test = _post(api, "/v1/load-tests", {"name": "bench", "targetUrl": "http://127.0.0.1:9", "scriptContent": __import__("base64").b64encode(SCRIPT.encode()).decode()})
            _post(api, "/v1/event-sources", {"ownerAccountId": "local", "kind": "codedeployApplication", "value": "bench"})  # the local tenant's
            _post(api, f"/v1/load-tests/{test['id']}/triggers", {"name": "bench", "eventPattern": PATTERN, "runSettings": {"durationSeconds": 5}})
            events = boto3.client("events", region_name=REGION)

            def by_event() -> float:
                detail = {"state": "SUCCESS", "application": "bench", "deploymentId": uuid.uuid4().hex}
                entry = {"Source": "aws.codedeploy", "DetailType": "CodeDeploy Deployment State-change Notification", "Detail": json.dumps(detail), "EventBusName": bus.stack.event_bus_name}
                done.clear()
                t0 = time.perf_counter()
                events.put_events(Entries=[entry])
                if not done.wait(30):
                    raise RuntimeError("the triggers function was not invoked")
                return (time.perf_counter() - t0) * 1000

            def by_api() -> float:
                t0 = time.perf_counter()
                _post(api, f"/v1/load-tests/{test['id']}/runs", {"durationSeconds": 5}, **{"Idempotency-Key": uuid.uuid4().hex})
                return (time.perf_counter() - t0) * 1000

            measured, anchor = [], []
            for i in range(warmup + n):
                pair = (by_event, by_api) if i % 2 == 0 else (by_api, by_event)
                results = {fn: fn() for fn in pair}
                if i >= warmup:
                    measured.append(results[by_event])
                    anchor.append(results[by_api])
            runs = api.request("GET", f"/v1/load-tests/{test['id']}/runs", query="limit=100").json()["items"]
            by_trigger = sum(1 for r in runs if (r.get("trigger") or {}).get("type") == "event")
            if by_trigger < min(n + warmup, 50):
                raise RuntimeError(f"only {by_trigger} event-started runs were recorded")
        finally:
            bus.stop()
            set_stores(None)
            set_settings(None)
    log(f"trigger_latency: {n} events and {n} API starts, alternated")
    return [
        figure(
            "trigger_latency.event_to_run_started",
            measured="PutEvents of a matching CodeDeploy event to the triggers function's return (run stored, execution started, "
            "firing recorded), local bus, in process, SQLite, non-executing state machine",
            anchor="POST /v1/load-tests/{id}/runs with an Idempotency-Key through the runs handler, same process and stores",
            value=median(measured),
            anchor_value=median(anchor),
            unit="ms",
            max_ratio=TARGET_MAX_RATIO,
            samples=n,
            ratio=paired_ratio(measured, anchor),
            ratio_method="median over iterations of the event-started run / the API-started run beside it",
            details={"quartiles_ms": {"event": {k: round(v, 3) for k, v in spread(measured).items()}, "api": {k: round(v, 3) for k, v in spread(anchor).items()}}},
        )
    ]
