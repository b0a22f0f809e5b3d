"""`load-manager invoke FUNCTION --event FILE`: run one function's handler once with an event, in
this process, against the local stores (what `sam local invoke` does, without Docker).

FUNCTION is a folder of functions/ (`triggers`, `runs`...) or a template logical id
(`TriggersFunction`). The handler runs with the local runtime around it, in the settings its
template environment gives it, as under `serve`: SQLite in --data-dir, the run lifecycle state
machine and the event bus in process; a run the invocation starts is awaited
(unless --no-wait: its lifecycle then ends with the process, and the next `serve` on that data
directory records it Failed). A `serve` running on the same data directory is left alone.
The handler's return value is printed as JSON on stdout; an exception as Lambda's error shape, exit 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from typing import Any

from load_manager_local.functions import project_root
from load_manager_local.template import load_template


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("invoke", help="run one function's handler once with an event file, against the local stores")
    parser.add_argument("function", help="functions/<name> folder (e.g. triggers) or template logical id (e.g. TriggersFunction)")
    parser.add_argument("--event", "-e", required=True, help="event JSON file (events/<function>/<case>.json), or - for stdin")
    parser.add_argument("--data-dir", default=".data", help="the local runtime's data directory (as for serve)")
    parser.add_argument("--no-wait", action="store_true", help="do not wait for runs the invocation started")
    parser.add_argument("--timeout", type=float, default=3600, help="longest wait for started runs, in seconds")
    parser.set_defaults(handler=main)


def resolve_function(name: str) -> tuple[str, str]:
    """(folder under functions/, logical id) for a folder name or a logical id."""
    resources = load_template(project_root() / "template.yaml").get("Resources", {})
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        folder = resource["Properties"]["CodeUri"].rstrip("/").split("/")[-1]
        if name in (folder, logical_id):
            return folder, logical_id
    known = sorted(r["Properties"]["CodeUri"].rstrip("/").split("/")[-1] for r in resources.values() if r.get("Type") == "AWS::Serverless::Function")
    raise SystemExit(f"no function {name!r} in template.yaml; one of: {', '.join(known)}")


def read_event(path: str) -> Any:
    text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    try:
        return json.loads(text)
    except ValueError as exc:
        raise SystemExit(f"{path}: not JSON ({exc})") from None


def main(args: argparse.Namespace) -> int:
    import os

    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    _folder, logical_id = resolve_function(args.function)
    event = read_event(args.event)
    from load_manager_local.runtime import start_local_runtime
    from load_manager_local.stepfunctions import LambdaContext

    # A serve may be running on the same data directory: its active runs are not ours to fail.
    lifecycle = start_local_runtime(args.data_dir, scheduler_tick_seconds=0, recover=False)
    function = lifecycle.functions.stack.functions[logical_id]
    try:
        try:
            # As serve runs it: in the settings its template environment gives it (local_functions.py).
            context = LambdaContext(function.name, function.arn, timeout_s=function.timeout, memory_limit_in_mb=function.memory_size)
            result = lifecycle.functions.handler(logical_id)(event, context)
        except Exception as exc:  # noqa: BLE001 - reported as Lambda reports a function error
            error = {"errorType": type(exc).__name__, "errorMessage": str(exc), "stackTrace": traceback.format_tb(exc.__traceback__)}
            print(json.dumps(error, indent=2))
            return 1
        print(json.dumps(result, indent=2, default=str))
        if not args.no_wait:
            _wait_for_runs(lifecycle, args.timeout)
        return 0
    finally:
        lifecycle.stop()


def _running(lifecycle) -> int:
    client = lifecycle.sfn.client
    return len(client.list_executions(stateMachineArn=lifecycle.state_machine_arn, statusFilter="RUNNING")["executions"])


def _wait_for_runs(lifecycle, timeout: float) -> None:
    """Until no execution runs and no delivery is pending (a RunFinished may fire a trigger)."""
    deadline, told = time.monotonic() + timeout, False
    while time.monotonic() < deadline:
        if lifecycle.aws is not None:
            lifecycle.aws.drain(timeout=max(1.0, deadline - time.monotonic()))
        running = _running(lifecycle)
        if not running:
            return
        if not told:
            print(f"waiting for {running} run lifecycle(s) this invocation started (--no-wait skips this)", file=sys.stderr)
            told = True
        time.sleep(0.5)
    print(f"gave up waiting after {timeout} s", file=sys.stderr)
