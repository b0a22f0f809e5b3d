"""The committed openapi.json is generated from the resolvers and matches template.yaml."""

from __future__ import annotations

import subprocess
import sys

import pytest

from load_manager_local.functions import project_root
from load_manager_local.openapi import ERROR_REF, METHODS, api_routes, build_openapi

COMMITTED = project_root() / "openapi.json"


@pytest.fixture(scope="module")
def doc():
    return build_openapi()


def _operations(doc):
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def test_committed_document_is_current():
    # Exactly what `make openapi` writes, so this also catches stray output (logs) on stdout.
    generated = subprocess.run(
        [sys.executable, "-m", "load_manager_local.openapi"], capture_output=True, text=True, check=True, cwd=project_root()
    ).stdout
    assert COMMITTED.exists(), "openapi.json is missing: run `make openapi`"
    assert COMMITTED.read_text() == generated, "openapi.json is out of date with the handlers: run `make openapi` and commit it"


def test_every_template_route_is_documented_and_nothing_else(doc):
    documented = {(method, path) for method, path, _ in _operations(doc)}
    # OpenAPI has no greedy parameter: API Gateway's `{path+}` is documented as `{path}`.
    declared = {(route.method, route.path.replace("+}", "}")) for route in api_routes()}
    assert declared - documented == set(), "routes in template.yaml without a handler route"
    assert documented - declared == set(), "handler routes that template.yaml does not declare (API Gateway would never call them)"


def test_error_responses_use_the_error_schema(doc):
    for method, path, operation in _operations(doc):
        errors = {int(status): r for status, r in operation["responses"].items() if int(status) >= 400}
        assert errors, f"{method} {path} documents no error response"
        for status, response in errors.items():
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            expected = {"$ref": ERROR_REF}
            if status in (401, 413):  # API Gateway may answer these itself, with {"message"} only
                expected = {"anyOf": [expected, {"$ref": "#/components/schemas/GatewayError"}]}
            assert schema == expected, f"{method} {path} {status} does not use ErrorResponse"


def test_routes_document_the_errors_they_can_answer(doc):
    authorized = {(r.method, r.path) for r in api_routes() if r.authorized}
    for method, path, operation in _operations(doc):
        statuses = {int(s) for s in operation["responses"]}
        expected = {422} | ({401, 403} if (method, path) in authorized else set()) | ({404} if "{" in path else set())
        assert expected <= statuses, f"{method} {path} does not document {sorted(expected - statuses)}"


def test_bearer_jwt_everywhere_but_public_routes(doc):
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT or lmt_ token", "description": "A Cognito JWT or an API token (lmt_...), checked by the API's Lambda authorizer",
    }
    assert doc["security"] == [{"bearerAuth": []}]
    public = {(r.method, r.path) for r in api_routes() if not r.authorized}
    assert ("GET", "/v1/health") in public
    for method, path, operation in _operations(doc):
        effective = operation.get("security", doc["security"])
        assert effective == ([] if (method, path) in public else [{"bearerAuth": []}]), f"{method} {path}"


def test_every_route_documents_its_success_response(doc):
    missing = [f"{m} {p}" for m, p, op in _operations(doc) if not any(200 <= int(s) < 300 for s in op["responses"])]
    assert not missing, f"no 2xx response documented: {missing}"
