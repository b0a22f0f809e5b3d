"""schemathesis fuzzes `load-manager serve` from the committed openapi.json: no 5xx, nothing undocumented.

One real server per module (SQLite in a temp dir), seeded with load tests and revisions; a
`flatmap_case` hook aims about half the generated cases at them (ids, revision ids/numbers, diff
bounds, rollback targets, valid base64 scripts), so routes are exercised past their 404/422 paths.
Each operation runs schemathesis' per-operation phases (examples, if the document has any; coverage:
boundaries, wrong types, unexpected methods and content types; then Hypothesis fuzzing) with positive
AND negative data: "nothing a client sends produces a 5xx" is a contract, and malformed input is
where a 5xx hides. A stateful test then chains operations along the links schemathesis infers from
the document (list -> read/edit/delete, create -> revisions -> rollback, run -> stop ...).

Checks, on every response, positive or negative:
  not_a_server_error             no 5xx, whatever was sent
  status_code_conformance        the status is one the operation documents
  content_type_conformance       the Content-Type is the documented one
  response_schema_conformance    the body matches the documented schema (ErrorResponse for errors)
Not used: positive_data_acceptance / negative_data_rejection (the document does not encode "a cursor
is opaque", "PATCH needs one field", "name cannot be null"; they would report semantics, not
contract breaks), the auth checks (local mode has no authorizer), response_headers_conformance (no
response headers are documented).

No Authorization header is generated (`with_security_parameters=False`): without one, local mode is
the default user; garbage tokens only test the gateway's 401 (checked once, at the bottom).

Starting a run launches real Locust: `make_safe` points every run at a dead loopback port with one
user for two seconds, and keeps cluster configs off ECS, whatever the fuzzer or a fuzzed default says.

Requests the fuzz reaches only by chance (a non-JSON body on every JSON route, the gateway's own
401 and 413) are checked explicitly at the bottom.

`LM_OPENAPI=/path/to/openapi.json` fuzzes another document (e.g. freshly generated, not committed).
"""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core import NOT_SET
from schemathesis.core.result import Ok
from support.scripts import SIMPLE, b64, simple_variant
from support.serve import serve

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = Path(os.environ.get("LM_OPENAPI") or ROOT / "openapi.json")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_path(DOCUMENT)
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    with_security_parameters=False,
)

# Bounded and reproducible: ~50 generated cases per operation on top of the coverage phase's
# deterministic ones; derandomized (same cases every run, no example database); no deadline (a real
# server on a busy CI box); the health checks that only say "generation is slow, filtered, large".
SETTINGS = hypothesis.settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
STATEFUL_SETTINGS = hypothesis.settings(SETTINGS, max_examples=25, stateful_step_count=8)

# Filled by the `api_url` fixture before any case is drawn (strategies are evaluated lazily).
SEEDS: dict[str, list] = {"tests": [], "disposable": [], "runs": []}
# Valid scripts (201/200) and the two static-validation failures (422): base64 that the fuzzer
# would practically never produce by itself, so without these no create/update would ever succeed.
SCRIPTS = [SIMPLE, simple_variant(7), "def broken(:\n    pass\n", "import os\n\nprint('no user class')\n"]


def _zip_of(script: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("locustfile.py", script)
    return buffer.getvalue()


# The archive route's body is a zip, which schemathesis cannot draw from a schema: a valid archive of
# each script (so uploads get past 422), or arbitrary bytes (what a broken client sends).
schemathesis.openapi.media_type("application/zip", st.one_of(st.sampled_from([_zip_of(s) for s in SCRIPTS]), st.binary(max_size=256)))

# Anything that starts a real Locust run is clamped to this: one user, two seconds, a dead local port.
SINK = "http://127.0.0.1:9"
RUN_KNOBS = {"targetUsers": 1, "spawnRate": 1, "durationSeconds": 2, "workers": 1}


@pytest.fixture(scope="module")
def api_url(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("schemathesis")) as url:
        SEEDS["tests"] = [_seed_test(url, i) for i in range(2)]
        # DELETE draws from its own pool, so it cannot take the others' seeds away from them.
        SEEDS["disposable"] = [_create(url, f"disposable {i}")["id"] for i in range(3)]
        SEEDS["runs"] = []
        if "/v1/load-tests/{testId}/runs" in schema.raw_schema["paths"]:
            started = requests.post(f"{url}/v1/load-tests/{SEEDS['tests'][0]['id']}/runs", json={"targetUrl": SINK, **RUN_KNOBS}, timeout=30)
            assert started.status_code == 201, started.text
            SEEDS["runs"].append(started.json()["id"])
        yield url


def _create(url: str, name: str, script: str = SIMPLE) -> dict:
    response = requests.post(f"{url}/v1/load-tests", json={"name": name, "scriptContent": b64(script)}, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def _seed_test(url: str, i: int) -> dict:
    test = _create(url, f"seed {i}")
    for n in (1, 2):
        body = {"scriptContent": b64(simple_variant(10 * i + n))}
        assert requests.put(f"{url}/v1/load-tests/{test['id']}/script", json=body, timeout=10).status_code == 201
    revisions = requests.get(f"{url}/v1/load-tests/{test['id']}/script/revisions", timeout=10).json()["items"]
    # A revision can be named by id or by number: both are in the pool.
    return {"id": test["id"], "revisions": [r["id"] for r in revisions] + [str(r["revisionNumber"]) for r in revisions]}


# ---- steering generation towards existing resources (fuzzing and stateful phases) ----------------

# Hypothesis replays and shrinks by choice sequence, so a strategy's shape must not depend on state
# outside it: pools are picked by an index from a fixed range, whatever their (growing) size.
PICKS = 16


def _pick(pool: str):
    return st.integers(0, PICKS - 1).map(lambda i: SEEDS[pool][i % len(SEEDS[pool])] if SEEDS[pool] else None)


@schema.hook
def flatmap_case(context, case):
    """Half the time, keep what schemathesis drew; otherwise aim the case at a seeded resource.

    A hook rather than `@schema.given(st.data())`: `given` switches schemathesis' coverage phase off.
    """
    if "testId" in case.path_parameters and case.method.upper() == "DELETE":
        aimed = _pick("disposable").map(lambda tid: _set_path(case, testId=tid) if tid else case)
    elif "testId" in case.path_parameters:
        aimed = _pick("tests").flatmap(lambda seed: _at_seed(case, seed) if seed else st.just(case))
    elif "runId" in case.path_parameters:
        aimed = _pick("runs").map(lambda rid: _set_path(case, runId=rid) if rid else case)
    elif _has_field(case, "scriptContent"):
        aimed = st.sampled_from(SCRIPTS).map(lambda script: _set_body(case, scriptContent=b64(script)))
    else:
        return st.just(case)
    return st.one_of(st.just(case), aimed)


def _has_field(case, name: str) -> bool:
    return isinstance(case.body, dict) and name in case.body


def _set_path(case, **values):
    case.path_parameters = {**case.path_parameters, **values}  # assignment: schemathesis revalidates the case
    return case


def _set_body(case, **values):
    case.body = {**case.body, **values}
    return case


def _at_seed(case, seed: dict):
    _set_path(case, testId=seed["id"])
    revision = st.sampled_from(seed["revisions"])

    def fill(drawn):
        rev_a, rev_b, script, with_script = drawn
        if "revisionId" in case.path_parameters:
            _set_path(case, revisionId=rev_a)
        if "from" in case.query or "to" in case.query:
            case.query = {**case.query, "from": rev_a, "to": rev_b}
        if _has_field(case, "revision"):
            _set_body(case, revision=rev_a)
        if with_script and _has_field(case, "scriptContent"):
            _set_body(case, scriptContent=b64(script))
        return case

    return st.tuples(revision, revision, st.sampled_from(SCRIPTS), st.booleans()).map(fill)


# ---- keeping real side effects small (applies to every phase) ------------------------------------


def make_safe(case) -> None:
    """A run the fuzzer starts must not load anything but a dead loopback port, nor for long.

    `POST /v1/load-tests/{testId}/runs` really launches Locust: the target is forced to SINK and every
    size knob is set small (a load test's own defaults may have been fuzzed up to 100k users / 24 h).
    Knobs of the wrong type are left alone: those requests are rejected before anything starts.
    And no cluster configuration may send runs to ECS (i.e. to AWS).
    """
    if not isinstance(case.body, dict):
        return
    if case.method.upper() == "POST" and case.path.endswith("/runs"):
        case.body = _small_run(case.body)
    elif "/triggers" in case.path or "/schedules" in case.path:
        # Their runs start without the fuzzer asking (serve's clock fires schedules; a fuzzed pattern
        # may match RunFinished): the same clamp, on the runSettings they would start them with.
        settings = case.body.get("runSettings")
        if isinstance(settings, dict) or (settings is None and case.method.upper() == "POST"):
            case.body = {**case.body, "runSettings": _small_run(settings or {})}
    elif case.method.upper() == "PUT" and case.path.startswith("/v1/clusters") and case.body.get("backend") == "ecs":
        case.body = {**case.body, "backend": "local"}


def _small_run(body: dict) -> dict:
    body = {**body, "targetUrl": SINK}
    for knob, small in RUN_KNOBS.items():
        value = body.get(knob)
        if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            body[knob] = small
    return body


def remember(case, response) -> None:
    if case.method.upper() == "POST" and case.path.endswith("/runs") and response.status_code == 201:
        SEEDS["runs"].append(response.json()["id"])


def _is_json(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == "application/json"


# ---- the fuzz -----------------------------------------------------------------------------------


@schema.parametrize()
@SETTINGS
def test_api(case, api_url):
    make_safe(case)
    response = case.call_and_validate(base_url=api_url, checks=CHECKS)
    remember(case, response)


STATEFUL_FAILURES: list[BaseException] = []


class Workflow(schema.as_state_machine()):
    """Sequences along the links schemathesis infers (e.g. GET /v1/load-tests -> items[].id -> testId)."""

    base_url = ""

    def before_call(self, case):
        make_safe(case)

    def get_call_kwargs(self, case):
        return {"base_url": self.base_url}

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        remember(case, response)
        try:
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None, recorder=getattr(self, "recorder", None))
        except schemathesis.errors.FailureGroup as failure:
            STATEFUL_FAILURES.append(failure)
            raise


def test_stateful(api_url):
    Workflow.base_url = api_url
    STATEFUL_FAILURES.clear()
    try:
        Workflow.run(settings=STATEFUL_SETTINGS)
    except hypothesis.errors.Flaky:
        # A live server moves on (runs finish, tests get deleted), so Hypothesis' replay of a scenario
        # can choose other steps and call the data generation flaky. As in schemathesis' own engine,
        # that is a finding only if a check failed on the way.
        if STATEFUL_FAILURES:
            raise STATEFUL_FAILURES[0] from None


# ---- what the fuzz reaches only by chance -------------------------------------------------------

JSON_BODY_OPERATIONS = [
    result.ok() for result in schema.get_all_operations()
    if isinstance(result, Ok) and any(_is_json(body.media_type) for body in result.ok().body)
]


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data"])
@pytest.mark.parametrize("operation", JSON_BODY_OPERATIONS, ids=lambda operation: operation.label)
def test_non_json_body_is_a_documented_415(api_url, operation, content_type):
    # A JSON body under another Content-Type, as schemathesis' coverage phase sends it (raw: a multipart
    # Case would be re-encoded, with a boundary).
    path_parameters = {name: "x" for name in ("testId", "runId", "clusterId", "revisionId", "triggerId", "scheduleId", "channelId") if f"{{{name}}}" in operation.path}
    case = operation.Case(path_parameters=path_parameters, body={}, headers={"Content-Type": content_type})
    url = api_url + operation.path.format(**path_parameters)
    response = requests.request(operation.method.upper(), url, data=b"{}", headers={"Content-Type": content_type}, timeout=10)
    case.validate_response(response, checks=CHECKS)
    assert response.status_code == 415, response.text


# API Gateway answers these itself, before any handler runs, with `{"message": ...}` only (and the
# local server imitates it byte for byte); the document says so (GatewayError).
GATEWAY_ANSWERS = {
    "401 bad bearer token": ("/v1/load-tests", "GET", {"Authorization": "Bearer not-a-jwt"}, None),
    "413 body over 10 MB": ("/v1/scripts/validate", "POST", {}, 10 * 1024 * 1024 + 1),
}


@pytest.mark.parametrize("name", GATEWAY_ANSWERS)
def test_gateway_answers_match_the_document(api_url, name):
    path, method, headers, content_length = GATEWAY_ANSWERS[name]
    case = schema[path][method].Case(headers=headers, body={"scriptContent": b64(SIMPLE)} if content_length else NOT_SET)
    if content_length is None:
        response = case.call(base_url=api_url)
    else:
        # Only announce the size: the server answers from Content-Length, nothing big is sent.
        with requests.Session() as session:
            request = requests.Request(method, f"{api_url}{path}", json=case.body).prepare()
            request.headers["Content-Length"] = str(content_length)
            response = session.send(request, timeout=10)
    assert response.status_code == int(name[:3]), response.text
    case.validate_response(response, checks=CHECKS)
