"""The real Lambda handlers, driven by the committed `events/<function>/<case>.json` files.

Every file on disk is a test case (a new file is picked up without touching this module). Cases
that `events/generate.py` declares are also checked against their expected status, error code and
body; see that module for the conventions (`__TEST_ID__`, seed revisions, claims).
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from load_manager_local.api import to_api_response
from load_manager_local.events import LambdaContext
from load_manager_local.functions import load_function
from load_manager_local.template import http_routes

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
FILES = sorted(EVENTS.glob("*/*.json"))
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
CASES = {f"{ROUTES[c.route].function}/{c.name}.json": c for c in gen.CASES}


def _snapshot(stores) -> dict[str, list[tuple]]:
    """Every row of every table: "changes nothing" means exactly this is equal before and after."""
    conn: sqlite3.Connection = stores.load_tests.db.connection()
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {t: sorted(tuple(row) for row in conn.execute(f'SELECT * FROM "{t}"')) for t in tables}


def _seed(api) -> str:
    """The load test behind `__TEST_ID__`: revisions 1 and 2 are the generator's SEED_SCRIPTS."""
    first, *rest = gen.SEED_SCRIPTS
    created = api.request("POST", "/v1/load-tests", body={"name": "Seeded", "scriptContent": gen.b64(first)}, claims=gen.CLAIMS)
    assert created.status == 201, created.json()
    test_id = created.json()["id"]
    for script in rest:
        updated = api.request("PUT", f"/v1/load-tests/{test_id}/script", body={"scriptContent": gen.b64(script)}, claims=gen.CLAIMS)
        assert updated.status == 201, updated.json()
    return test_id


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


@pytest.mark.parametrize("path", _params())
def test_event_file(path: Path, api, stores):
    function = path.parent.name
    test_id = _seed(api)
    event = json.loads(path.read_text().replace(gen.TEST_ID, test_id))
    route = ROUTES.get(event["routeKey"])
    assert route is not None, f"{event['routeKey']} is not a route of template.yaml"
    assert route.function == function, f"{path.name} belongs in events/{route.function}/"

    before = _snapshot(stores)
    response = _invoke(function, event)
    body = response.json()

    assert response.status < 500, body  # nothing a client sends produces a 5xx
    if response.status >= 400:
        assert response.headers.get("content-type", "").startswith("application/json")
        assert set(body) <= {"code", "message", "details"} and {"code", "message"} <= set(body), body
        assert isinstance(body["code"], str) and body["code"] and isinstance(body["message"], str) and body["message"]
    # Bad input changes nothing; neither does any read, nor a write that turns out to be a no-op (200 on PUT/POST).
    writes = response.status in (201, 204) or (event["requestContext"]["http"]["method"] == "PATCH" and response.status == 200)
    if not writes:
        assert _snapshot(stores) == before, "the store changed"
    else:
        assert _snapshot(stores) != before, "a successful write left the store as it was"

    case = CASES.get(f"{function}/{path.name}")
    if case is None:
        return  # hand-written event: the generic checks above are all we can say
    assert response.status == case.status, body
    if case.code:
        assert body["code"] == case.code, body
    if case.expect:
        assert _is_subset(case.expect, body), body


def test_every_route_has_an_event_file():
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
