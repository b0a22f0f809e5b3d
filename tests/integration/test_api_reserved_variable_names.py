"""Names that would change how Locust or the platform runs are refused through the API (422
`ReservedVariableName`, naming the variable), as variables and as secrets, at every scope and in a
run's body, and nothing is written; a name stored before it was reserved stops a run from starting
(and only that). Names that merely look alike are fine."""

from __future__ import annotations

from support.scripts import SIMPLE, b64

from load_manager.ids import new_id
from load_manager.models.variables import ConfigEntry

ADMIN = {"sub": "u1", "email": "qa@example.com", "email_verified": "true", "custom:accountId": "acct-a", "cognito:groups": "[load-manager-admins]"}
# What each would change: Locust's options (read before any config file), the loader's and the
# redaction's own, the interpreter, pip and uv (installs), gevent, the linker, where the loader
# unpacks and pip caches, the process's own.
RESERVED = [
    "LOCUST_HOST", "LOCUST_USERS", "LOCUST_RUN_TIME", "LOAD_MANAGER_SECRET_NAMES", "LOAD_MANAGER_BUNDLE_URL", "PYTHONPATH",
    "PYTHONUSERBASE", "PYTHONSTARTUP", "PIP_INDEX_URL", "PIP_CONSTRAINT", "UV_INDEX_URL", "GEVENT_RESOLVER", "LD_PRELOAD",
    "XDG_CONFIG_HOME", "TMPDIR", "TMP", "TEMP", "PATH", "HOME",
]  # fmt: skip
ALIKE = ["LOCUSTFILE_MODE", "PIPELINE_ID", "MY_PATH", "HOME_PAGE", "UVICORN_PORT", "GEVENTS", "TEMPERATURE"]


def refused(api, method: str, path: str, body: dict, name: str) -> None:
    answer = api.request(method, path, body=body, claims=ADMIN)
    assert answer.status == 422, (name, answer.json())
    assert answer.json()["code"] == "ReservedVariableName" and name in answer.json()["message"], answer.json()


def test_reserved_names_are_refused_everywhere_and_change_nothing(api, stores, vault, tmp_path):
    test_id = api.request("POST", "/v1/load-tests", body={"name": "t", "scriptContent": b64(SIMPLE), "orgId": "shop", "targetUrl": "http://127.0.0.1:9"}, claims=ADMIN).json()["id"]
    scopes = [{}, {"orgId": "shop"}, {"orgId": "shop", "projectId": "web"}, {"orgId": "shop", "projectId": "web", "envId": "prod"}, {"testId": test_id}]
    for name in RESERVED:
        for scope in scopes:
            refused(api, "PUT", "/v1/variables", {**scope, "name": name, "value": "x"}, name)
            refused(api, "PUT", "/v1/secrets", {**scope, "name": name, "value": "secret-value"}, name)
        refused(api, "POST", f"/v1/load-tests/{test_id}/runs", {"variables": {"OK_NAME": "1", name: "x"}}, name)
    assert api.request("GET", "/v1/variables", claims=ADMIN).json()["items"] == []
    assert api.request("GET", "/v1/secrets", claims=ADMIN).json()["items"] == []
    assert api.request("GET", f"/v1/load-tests/{test_id}/runs", claims=ADMIN).json()["items"] == []
    assert not [p for p in (tmp_path / "vault").rglob("*") if p.is_file()]  # no value reached the secret store either
    for name in ALIKE:
        assert api.request("PUT", "/v1/variables", body={"name": name, "value": "x"}, claims=ADMIN).status == 200, name


def test_a_name_reserved_after_it_was_stored_stops_a_run_and_says_which(api, stores, vault):
    test_id = api.request("POST", "/v1/load-tests", body={"name": "t", "scriptContent": b64(SIMPLE), "orgId": "shop", "targetUrl": "http://127.0.0.1:9"}, claims=ADMIN).json()["id"]
    stores.variables.insert(ConfigEntry(
        id=new_id(), account_id="acct-a", kind="variable", org_id="shop", name="PIP_INDEX_URL", value="https://pypi.example/simple", version=1,
        created_at=1, created_by="a", updated_at=1, updated_by="a",
    ))  # fmt: skip  # as written before PIP_* was reserved
    environment = api.request("GET", f"/v1/load-tests/{test_id}/environment", claims=ADMIN)
    assert environment.status == 200 and [v["name"] for v in environment.json()["variables"]] == ["PIP_INDEX_URL"]  # still shown, to be deleted
    refused(api, "POST", f"/v1/load-tests/{test_id}/runs", {}, "PIP_INDEX_URL")
    assert api.request("GET", f"/v1/load-tests/{test_id}/runs", claims=ADMIN).json()["items"] == []
