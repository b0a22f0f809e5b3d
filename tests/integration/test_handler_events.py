"""The real Lambda handlers, driven by the committed `events/<function>/<case>.json` files.

Every file on disk is a test case (a new file is picked up without touching this module). Cases
that `events/generate.py` declares are also checked against their expected status, error code and
body; see that module for the conventions (placeholders and what stands behind them, claims).

The runs function starts a Step Functions execution per run: here that is moto's Step Functions,
with a one-Pass-state machine that moto does not execute, so starting a run runs nothing. The
`events/run_workflow/` samples (state machine task inputs, not HTTP events) are only checked for
shape here; the lifecycle itself is tested under tests/lifecycle.
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import sys
import time
import typing
from pathlib import Path
from typing import Any
from unittest.mock import patch

import boto3
import pytest
from moto import mock_aws
from moto.core.config import default_user_config
from support.fake_backend import FakeBackend

from load_manager.adapters.step_functions import default_starter
from load_manager.lifecycle.dispatch import StepInput, run_step
from load_manager.settings import set_settings
from load_manager.store import get_stores
from load_manager_local.api import to_api_response
from load_manager_local.events import LambdaContext
from load_manager_local.functions import load_function
from load_manager_local.template import http_routes, load_template

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
ALL_FILES = sorted(EVENTS.glob("*/*.json"))
# Reproduced bugs awaiting a fix ("<function>/<case>.json": why). Strict: the fix turns the case red
# until its entry is removed here.
KNOWN_BUGS: dict[str, str] = {}


def _load_generator():
    # events/ is not a package: load the generator by path (registered first: dataclasses look it up).
    spec = importlib.util.spec_from_file_location("events_generate", EVENTS / "generate.py")
    module = sys.modules.setdefault("events_generate", importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)
    return module


gen = _load_generator()
ROUTES = {route.route_key: route for route in http_routes(ROOT / "template.yaml")}
HTTP_FUNCTIONS = {route.function for route in ROUTES.values()}
CASES = {f"{ROUTES[c.route].function}/{c.name}.json": c for c in gen.CASES}
AUTOMATION_FILES = [p for p in ALL_FILES if p.parent.name == gen.AUTOMATION_FUNCTION and p.stem in gen.AUTOMATION_CASES]
FILES = [p for p in ALL_FILES if p.parent.name != gen.WORKFLOW_FUNCTION and p not in AUTOMATION_FILES]  # API Gateway events
WORKFLOW_FILES = [p for p in ALL_FILES if p.parent.name == gen.WORKFLOW_FUNCTION]
REGION = "us-east-1"
# Never executed (moto runs definitions only with `stepfunctions.execute_state_machine`).
NOOP_DEFINITION = {"StartAt": "Noop", "States": {"Noop": {"Type": "Pass", "End": True}}}


@pytest.fixture
def state_machine(monkeypatch):
    """moto's Step Functions with a state machine it will not execute; the runs handler starts runs on it."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with patch.dict(default_user_config, {"stepfunctions": {"execute_state_machine": False}}), mock_aws():
        client = boto3.client("stepfunctions", region_name=REGION)
        arn = client.create_state_machine(
            name="load-manager-run-lifecycle-test",
            definition=json.dumps(NOOP_DEFINITION),
            roleArn="arn:aws:iam::123456789012:role/load-manager-states",
        )["stateMachineArn"]
        monkeypatch.setenv("RUN_STATE_MACHINE_ARN", arn)
        # The deployment's own subnet and group: what a cluster configuration may choose (template.yaml).
        monkeypatch.setenv("ECS_SUBNETS", ",".join(gen.ECS_SETTINGS["subnets"]))
        monkeypatch.setenv("ECS_SECURITY_GROUPS", ",".join(gen.ECS_SETTINGS["securityGroups"]))
        _automation(monkeypatch)
        set_settings(None)
        default_starter.cache_clear()
        try:
            yield client, arn
        finally:
            default_starter.cache_clear()  # its boto3 client belongs to this mock
            set_settings(None)


def _automation(monkeypatch) -> None:
    """The stack's bus and schedule group, in the same moto: the triggers function writes there."""
    boto3.client("events", region_name=REGION).create_event_bus(Name="load-manager-test")
    boto3.client("scheduler", region_name=REGION).create_schedule_group(Name="load-manager-test")
    monkeypatch.setenv("EVENT_BUS_NAME", "load-manager-test")
    monkeypatch.setenv("SCHEDULE_GROUP", "load-manager-test")
    monkeypatch.setenv("TRIGGERS_FUNCTION_ARN", "arn:aws:lambda:us-east-1:123456789012:function:load-manager-test-triggers")
    monkeypatch.setenv("SCHEDULER_ROLE_ARN", "arn:aws:iam::123456789012:role/load-manager-test-scheduler")
    monkeypatch.setenv("NOTIFICATION_ROLE_ARN", "arn:aws:iam::123456789012:role/load-manager-test-notify")  # channels' rule targets


def _snapshot(stores) -> dict[str, list[tuple]]:
    """Every row of every table: "changes nothing" means exactly this is equal before and after."""
    conn: sqlite3.Connection = stores.load_tests.db.connection()
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {t: sorted(tuple(row) for row in conn.execute(f'SELECT * FROM "{t}"')) for t in tables}


def _create(api, path: str, body: dict[str, Any], claims=gen.CLAIMS, method: str = "POST", status: int = 201) -> dict[str, Any]:
    response = api.request(method, path, body=body, claims=claims)
    assert response.status == status, response.json()
    return response.json()


def _seed(api, text: str) -> dict[str, str]:
    """Create what the event's placeholders stand for (only those it mentions); placeholder -> id."""
    # Always: the tenant owns the CodeDeploy application its seed trigger names (an operator says so).
    source_id = _create(api, "/v1/event-sources", gen.SEED_EVENT_SOURCE, claims=gen.OPERATOR_CLAIMS)["id"]
    first, *rest = gen.SEED_SCRIPTS
    test_id = _create(api, "/v1/load-tests", {**gen.SEED_TEST, "scriptContent": gen.b64(first)})["id"]
    for script in rest:
        _create(api, f"/v1/load-tests/{test_id}/script", {"scriptContent": gen.b64(script)}, method="PUT")
    ids = {gen.TEST_ID: test_id, gen.EVENT_SOURCE_ID: source_id}
    if gen.BARE_TEST_ID in text:
        ids[gen.BARE_TEST_ID] = _create(api, "/v1/load-tests", gen.BARE_TEST)["id"]
    if gen.RUN_ID in text:
        ids[gen.RUN_ID] = _create(api, f"/v1/load-tests/{test_id}/runs", gen.SEED_RUN)["id"]
    if gen.FINAL_RUN_ID in text:
        run_id = _create(api, f"/v1/load-tests/{test_id}/runs", gen.SEED_RUN)["id"]
        # Ended as the lifecycle ends it: the state machine's MarkFailed step.
        failed = load_function(gen.WORKFLOW_FUNCTION).lambda_handler(
            {**gen.WORKFLOW_CASES["fail"], "runId": run_id}, LambdaContext("RunWorkflowFunction")
        )
        assert failed["done"] is True, failed
        ids[gen.FINAL_RUN_ID] = run_id
    if gen.TRIGGER_ID in text:
        ids[gen.TRIGGER_ID] = _create(api, f"/v1/load-tests/{test_id}/triggers", gen.SEED_TRIGGER)["id"]
    if gen.SCHEDULE_ID in text:
        ids[gen.SCHEDULE_ID] = _create(api, f"/v1/load-tests/{test_id}/schedules", gen.SEED_SCHEDULE)["id"]
    if gen.CLUSTER_ID in text:
        ids[gen.CLUSTER_ID] = _create(api, "/v1/clusters", gen.SEED_CLUSTER, claims=gen.ADMIN_CLAIMS, method="PUT", status=200)["id"]
    if gen.CHANNEL_ID in text:
        ids[gen.CHANNEL_ID] = _create(api, "/v1/notification-channels", json.loads(_fill(json.dumps(gen.SEED_CHANNEL), ids)))["id"]
    if gen.VARIABLE_ID in text:
        ids[gen.VARIABLE_ID] = _create(api, "/v1/variables", gen.SEED_VARIABLE, claims=gen.ADMIN_CLAIMS, method="PUT", status=200)["id"]
    if gen.SECRET_ID in text:
        ids[gen.SECRET_ID] = _create(api, "/v1/secrets", gen.SEED_SECRET, claims=gen.ADMIN_CLAIMS, method="PUT", status=200)["id"]
    if gen.TOKEN_ID in text:
        ids[gen.TOKEN_ID] = _create(api, "/v1/tokens", gen.SEED_TOKEN, claims=gen.ADMIN_CLAIMS)["id"]
    if gen.BASELINE_RUN_ID in text:
        ids[gen.BASELINE_RUN_ID] = _finished_run(api, test_id, {**gen.SEED_FINISHED_RUN, "revision": 1})
        _create(api, f"/v1/load-tests/{test_id}/baseline", {"runId": ids[gen.BASELINE_RUN_ID]}, method="PUT", status=200)
    if gen.FINISHED_RUN_ID in text:
        ids[gen.FINISHED_RUN_ID] = _finished_run(api, test_id, gen.SEED_FINISHED_RUN)
    return ids


def _finished_run(api, test_id: str, body: dict[str, Any]) -> str:
    """A run driven to Finished by the real workflow steps (start, one poll, finalize) on an in-memory
    Locust backend: samples, final results, its report page and a Locust report."""
    run = _create(api, f"/v1/load-tests/{test_id}/runs", body)
    backend = FakeBackend(html_report="<!doctype html><html><body>Locust's report</body></html>")
    for action in ("start", "poll", "finalize"):
        run_step({"action": action, "runId": run["id"], "accountId": run["accountId"]}, get_stores(), backend.factory)
    assert get_stores().runs.get(run["accountId"], run["id"]).status == "Finished"
    return run["id"]


def _fill(text: str, ids: dict[str, str]) -> str:
    for placeholder, value in ids.items():
        text = text.replace(placeholder, value)
    return text


def _invoke(function: str, event: dict[str, Any]):
    route = ROUTES[event["routeKey"]]
    result = load_function(function).lambda_handler(event, LambdaContext(route.function_logical_id))
    return to_api_response(result)


def _is_subset(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and _is_subset(v, actual[k]) for k, v in expected.items())
    return expected == actual


def _params():
    for path in FILES:
        name = str(path.relative_to(EVENTS))
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name])] if name in KNOWN_BUGS else []
        yield pytest.param(path, id=name, marks=marks)


def _writes(method: str, status: int, case) -> bool:
    """Whether the request must have changed the store (else it must have changed nothing)."""
    if status >= 300:
        return False  # bad input changes nothing
    if case is not None and case.writes is not None:
        return case.writes
    # A no-op write (PUT of unchanged content, an idempotent replay) answers 200 and changes nothing.
    return status in (201, 202, 204) or (method == "PATCH" and status == 200)


@pytest.mark.parametrize("path", _params())
def test_event_file(path: Path, api, stores, state_machine):
    function = path.parent.name
    case = CASES.get(f"{function}/{path.name}")
    text = path.read_text()
    ids = _seed(api, text + (json.dumps(case.expect) if case else ""))
    event = json.loads(_fill(text, ids))
    route = ROUTES.get(event["routeKey"])
    assert route is not None, f"{event['routeKey']} is not a route of template.yaml"
    assert route.function == function, f"{path.name} belongs in events/{route.function}/"
    method = event["requestContext"]["http"]["method"]

    first = None
    if case is not None and case.first_body is not None:
        # The same request sent before with the same Idempotency-Key (same body or not).
        first = _invoke(function, {**event, "body": json.dumps(case.first_body), "isBase64Encoded": False})
        assert first.status == 201, first.json()

    before = _snapshot(stores)
    _a_millisecond_passes()  # a write's updatedAt differs from the seed's however fast the machine
    response = _invoke(function, event)
    content_type = response.headers.get("content-type", "")
    binary, html = content_type == "application/zip", content_type.startswith("text/html")
    body = {"zipBytes": len(response.body)} if binary else _page_checked(response) if html else response.json()
    if binary:  # a bundle download: a real zip archive with the revision's files
        import io
        import zipfile

        assert "locustfile.py" in zipfile.ZipFile(io.BytesIO(response.body)).namelist()

    assert response.status < 500, body  # nothing a client sends produces a 5xx
    if response.status >= 400:
        assert response.headers.get("content-type", "").startswith("application/json")
        assert set(body) <= {"code", "message", "details"} and {"code", "message"} <= set(body), body
        assert isinstance(body["code"], str) and body["code"] and isinstance(body["message"], str) and body["message"]
    # Bad input changes nothing; neither does any read, nor a write that turns out to be a no-op.
    if method == "GET" or not _writes(method, response.status, case):
        assert _snapshot(stores) == before, "the store changed"
    else:
        assert _snapshot(stores) != before, "a successful write left the store as it was"
    if route.route_key == "POST /v1/load-tests/{testId}/runs" and response.status in (200, 201) and not body.get("dryRun"):
        _check_started(state_machine, stores, response, body)  # a dry run started nothing: the store is unchanged (above)
        if first is not None and first.status == 201:
            assert body["id"] == first.json()["id"], "an Idempotency-Key replay must return the first run"

    if case is None:
        return  # hand-written event: the generic checks above are all we can say
    assert response.status == case.status, body
    if case.code:
        assert body["code"] == case.code, body
    if case.expect:
        assert _is_subset(json.loads(_fill(json.dumps(case.expect), ids)), body), body


def _a_millisecond_passes() -> None:
    from load_manager.ids import wall_clock_ms

    seeded = wall_clock_ms()
    while wall_clock_ms() == seeded:
        time.sleep(0.0005)


def _page_checked(response) -> dict[str, Any]:
    """An HTML answer (a report page): a whole document, UTF-8. Returned as {} for the JSON checks."""
    page = response.body.decode("utf-8")
    assert response.status == 200 and page.startswith("<!doctype html>") and page.rstrip().endswith("</html>"), page[:200]
    return {}


def _check_started(state_machine, stores, response, body: dict[str, Any]) -> None:
    """A started run is Pending (nothing executes the definition here) with its execution, named after it."""
    client, arn = state_machine
    assert body["status"] == "Pending", body
    assert response.headers.get("location") == f"/v1/runs/{body['id']}"
    assert body["executionArn"], body
    execution = client.describe_execution(executionArn=body["executionArn"])
    assert execution["stateMachineArn"] == arn and execution["name"] == body["id"]
    assert json.loads(execution["input"]) == {"runId": body["id"], "accountId": body["accountId"]}
    stored = stores.runs.get(body["accountId"], body["id"])
    assert stored is not None and stored.execution_arn == body["executionArn"] and stored.status == "Pending"
    assert [change.status for change in stored.status_history] == ["Pending"]


@pytest.mark.parametrize("path", AUTOMATION_FILES, ids=lambda p: str(p.relative_to(EVENTS)))
def test_automation_event_files(path: Path, api, stores, state_machine):
    """What a trigger's rule or a schedule delivers: the handler answers the case's outcome, and a
    run it starts is a real run (Pending, its execution started) recording what started it."""
    text = path.read_text()
    ids = _seed(api, text)
    event = json.loads(_fill(text, ids))
    answer = load_function(gen.AUTOMATION_FUNCTION).lambda_handler(event, LambdaContext("TriggersFunction"))
    _, expected = gen.AUTOMATION_CASES[path.stem]
    assert _is_subset(json.loads(_fill(json.dumps(expected), ids)), answer), answer
    if answer.get("outcome") == "started":
        run = stores.runs.get(gen.CLAIMS["custom:accountId"], answer["runId"])
        assert run is not None and run.status == "Pending" and run.execution_arn, run
        assert run.trigger is not None and run.trigger.type == ("schedule" if "loadManagerSchedule" in event else "event")
        again = load_function(gen.AUTOMATION_FUNCTION).lambda_handler(event, LambdaContext("TriggersFunction"))
        assert again["outcome"] == "duplicate" and again.get("runId", answer["runId"]) == answer["runId"], again


def test_workflow_event_files():
    """events/run_workflow/ holds state machine task inputs for RunWorkflowFunction (samples, not run here)."""
    template = load_template(ROOT / "template.yaml")
    functions = {r["Properties"]["CodeUri"].rstrip("/").split("/")[-1]: r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"}
    workflow = functions.get(gen.WORKFLOW_FUNCTION)
    assert workflow is not None, f"template.yaml has no functions/{gen.WORKFLOW_FUNCTION}"
    assert not any(e.get("Type") == "HttpApi" for e in (workflow["Properties"].get("Events") or {}).values())
    steps = set(typing.get_args(StepInput.model_fields["action"].annotation))
    assert {p.stem for p in WORKFLOW_FILES} >= set(steps), "a sample event per workflow step"
    asl = (ROOT / "statemachine" / "run_lifecycle.asl.json").read_text()
    for path in WORKFLOW_FILES:
        event = json.loads(path.read_text())
        assert isinstance(event, dict), path
        assert event.get("action") in steps, path
        assert f'"action": "{event["action"]}"' in asl, f"{path}: the state machine never sends this action"
        assert isinstance(event.get("runId"), str) and event["runId"], path
        assert isinstance(event.get("accountId"), str) and event["accountId"], path
        if event["action"] == "fail":
            assert set(event.get("error") or {}) == {"Error", "Cause"}, path


def test_every_route_has_an_event_file():
    assert {p.parent.name for p in FILES} <= HTTP_FUNCTIONS, "events/<function>/ for a function with no HTTP route"
    covered = {json.loads(p.read_text())["routeKey"] for p in FILES}
    missing = sorted(set(ROUTES) - covered)
    assert not missing, f"no events/<function>/<case>.json for {missing}: add a Case to events/generate.py and run it"


def test_every_route_has_a_happy_case_and_claims_only_where_authorized():
    """Each route has a 2xx case; only the template's unauthenticated routes come without claims."""
    happy = {c.route for c in gen.CASES if c.status < 300}
    assert set(ROUTES) <= happy, sorted(set(ROUTES) - happy)
    for path in FILES:
        event = json.loads(path.read_text())
        has_claims = "authorizer" in event["requestContext"]
        assert has_claims == ROUTES[event["routeKey"]].authorized, path


def test_event_files_match_the_generator():
    """The committed files are exactly what events/generate.py writes (regenerate after editing it)."""
    for relative, event in gen.build_all().items():
        on_disk = EVENTS / relative
        assert on_disk.exists(), f"{relative} missing: run .venv/bin/python events/generate.py"
        assert on_disk.read_text() == gen.render(event), f"{relative} is stale: run .venv/bin/python events/generate.py"
