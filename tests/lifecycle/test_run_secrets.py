"""Variables and secrets through the run lifecycle, fast: the real steps walked over the real ASL,
a fake backend that reports what a careless locustfile would (the token in an error message, a log
tail, an endpoint name, Locust's report), the local file vault.

What a run records (names, levels, versions; variables' values, never a secret's), what its Locust
processes get (the most specific of each name, the run's own variables first), and that nothing the
lifecycle stores or raises carries a secret's value, even when the step cannot read the values to
redact with (then the text is withheld)."""

from __future__ import annotations

import dataclasses
import json

import pytest
from support.fake_backend import FakeBackend
from support.lifecycle import RecordingStarter, statuses, walk
from support.scripts import SIMPLE, b64

from load_manager.backends.base import ClusterHandle, ClusterSpec, ErrorStats, LocustStartError, ProcessStatus
from load_manager.identity import Caller
from load_manager.lifecycle import run_environment
from load_manager.models.load_tests import CreateLoadTestRequest
from load_manager.models.runs import StartRunRequest
from load_manager.models.variables import PutSecretRequest, PutVariableRequest
from load_manager.usecases import load_tests, runs, variables

pytestmark = pytest.mark.usefixtures("fast_settings")

TOKEN = "tok-5e1f0c2b9a7d"  # the secret under test
ADMIN = Caller(subject="admin", email="admin@example.com", account_id="acct", groups=frozenset({"load-manager-admins"}))
USER = Caller(subject="u1", email="qa@example.com", account_id="acct", groups=frozenset())


class LeakyBackend(FakeBackend):
    """What a locustfile that prints, raises and names endpoints with the token makes Locust report."""

    specs: list[ClusterSpec]

    def __init__(self, secret: str, **kwargs):
        super().__init__(html_report=f"<html><td>Authorization: Bearer {secret}</td><td>{json.dumps({'t': secret})}</td></html>", **kwargs)
        self.secret, self.specs = secret, []

    def begin(self, handle: ClusterHandle, spec: ClusterSpec) -> None:
        self.specs.append(spec)
        super().begin(handle, spec)

    def sample(self, handle):
        stats = super().sample(handle)
        row = dataclasses.replace(stats.endpoints[0], name=f"/login?token={self.secret}")
        return dataclasses.replace(stats, endpoints=[row], errors=[ErrorStats("GET", "/", f"401 for Bearer {self.secret}", 3)])

    def collect(self, handle):
        results = super().collect(handle)
        row = dataclasses.replace(results.endpoints[0], name=f"/login?token={self.secret}")
        errors = [ErrorStats("GET", "/", f"HTTPError('401 Client Error for {self.secret}')", 3)]
        return dataclasses.replace(results, endpoints=[row], errors=errors, log_tail=f"printed {self.secret}\n")


def scoped_test(stores):
    request = CreateLoadTestRequest.model_validate({
        "name": "secrets", "scriptContent": b64(SIMPLE), "targetUrl": "http://127.0.0.1:9", "orgId": "shop", "projectId": "checkout", "envId": "prod",
    })  # fmt: skip
    return load_tests.create(stores, USER, request)


def put_variable(stores, name: str, value: str, caller=ADMIN, **scope):
    return variables.put_variable(stores, caller, PutVariableRequest.model_validate({"name": name, "value": value, **scope}))


def put_secret(stores, vault, name: str, value: str, **scope):
    return variables.put_secret(stores, vault, ADMIN, PutSecretRequest.model_validate({"name": name, "value": value, **scope}))


def start(stores, test, **settings):
    run, _ = runs.start_run(stores, RecordingStarter, USER, test.id, StartRunRequest.model_validate({"durationSeconds": 1, **settings}), None)
    return run


def everything_stored(stores, run) -> str:
    """The run, its samples and its report, as the store keeps them."""
    final = stores.runs.get(run.account_id, run.id)
    samples = stores.metrics.list(run.account_id, run.id, limit=1000)
    return final.model_dump_json() + "".join(s.model_dump_json() for s in samples) + json.dumps(stores.runs.get_handle(run.account_id, run.id))


def test_a_run_gets_the_most_specific_of_each_name_and_records_which_without_a_secrets_value(stores, vault, tmp_path):
    test = scoped_test(stores)
    for level, scope in (("account", {}), ("org", {"orgId": "shop"}), ("project", {"orgId": "shop", "projectId": "checkout"})):
        put_variable(stores, "LEVEL", level, **scope)
    put_variable(stores, "LEVEL", "other env", orgId="shop", projectId="checkout", envId="staging")  # not this run's env
    put_variable(stores, "ONLY_TEST", "mine", caller=ADMIN, testId=test.id)  # a test's own (admins write variables at every level)
    put_variable(stores, "API_TOKEN", "plain, same level", orgId="shop", projectId="checkout")
    put_secret(stores, vault, "API_TOKEN", "an older token", orgId="shop", projectId="checkout")
    secret = put_secret(stores, vault, "API_TOKEN", TOKEN, orgId="shop", projectId="checkout")
    assert secret.version == 2

    run = start(stores, test, variables={"NUM_USERS": "7"})
    assert [(v.name, v.value, v.level) for v in run.variables] == [("LEVEL", "project", "project"), ("NUM_USERS", "7", "run"), ("ONLY_TEST", "mine", "test")]
    assert [(s.name, s.level, s.id, s.version) for s in run.secrets] == [("API_TOKEN", "project", secret.id, 2)]  # a secret wins its level
    assert TOKEN not in run.model_dump_json()

    backend = LeakyBackend(TOKEN)
    assert walk(stores, backend, run).status == "SUCCEEDED"
    (spec,) = backend.specs
    # ... and which of them are secrets (names only: every Locust process masks those values in its output).
    assert dict(spec.run_env) == {"LEVEL": "project", "NUM_USERS": "7", "ONLY_TEST": "mine", "API_TOKEN": TOKEN, "LOAD_MANAGER_SECRET_NAMES": "API_TOKEN"}
    assert TOKEN not in repr(spec) and dict(spec.env) == {}  # never in what a backend hands a remote task's overrides

    final = stores.runs.get(run.account_id, run.id)
    assert final.status == "Finished"
    assert final.errors[0].error == "HTTPError('401 Client Error for ***')" and final.endpoints[0].name == "/login?token=***"
    stored = everything_stored(stores, run)
    assert TOKEN not in stored and "***" in stored
    assert final.report_location  # Locust's report was kept (redacted: the data dir below holds it)
    found = [path for path in tmp_path.rglob("*") if path.is_file() and TOKEN.encode() in path.read_bytes()]
    assert [path.relative_to(tmp_path).parts[0] for path in found] == ["vault"], found  # the data dir: only the secret store has it


def test_a_crash_reason_never_carries_the_value_into_step_functions_or_the_run(stores, vault):
    test = scoped_test(stores)
    put_secret(stores, vault, "API_TOKEN", TOKEN)
    run = start(stores, test)

    def crash_at_begin(handle):
        raise LocustStartError("Locust exited during start", exit_code=1, log_tail=f"Traceback\nValueError: bad token {TOKEN}\n")

    execution = walk(stores, FakeBackend(on_begin=crash_at_begin), run)
    final = stores.runs.get(run.account_id, run.id)
    assert execution.status == "FAILED" and final.status == "Failed" and "ValueError: bad token ***" in final.failure_reason
    assert TOKEN not in json.dumps(dataclasses.asdict(execution), default=str) + final.model_dump_json()  # the error's Cause included

    run = start(stores, test)
    backend = LeakyBackend(TOKEN)
    backend.on_sample = lambda handle: backend.crash(handle)

    def dead(handle):
        return ProcessStatus(alive=False, exit_code=1, log_tail=f"print: {TOKEN}", reason=f"exited: {TOKEN}")

    backend.status = dead  # type: ignore[method-assign]
    walk(stores, backend, run)
    final = stores.runs.get(run.account_id, run.id)
    assert final.status == "Failed" and "print: ***" in final.failure_reason and TOKEN not in final.failure_reason


def test_a_step_that_cannot_read_the_values_withholds_what_locust_said(stores, vault):
    test = scoped_test(stores)
    secret = put_secret(stores, vault, "API_TOKEN", TOKEN)
    run = start(stores, test)
    backend = LeakyBackend(TOKEN)
    for action in ("start", "poll"):
        run_step(action, stores, backend, run)
    variables.delete_secret(stores, vault, ADMIN, secret.id)  # during the run: its value is gone from the store
    run_environment._cache.clear()  # as in a fresh Lambda execution environment
    run_step("finalize", stores, backend, run)
    final = stores.runs.get(run.account_id, run.id)
    assert final.status == "Finished"
    assert final.errors[0].error == run_environment.WITHHELD and TOKEN not in everything_stored(stores, run)


def test_a_secret_deleted_before_the_run_starts_fails_it_saying_which(stores, vault):
    test = scoped_test(stores)
    secret = put_secret(stores, vault, "DB_PASSWORD", "hunter2-long")
    run = start(stores, test)
    vault.delete("acct", secret.id)
    walk(stores, FakeBackend(), run)
    final = stores.runs.get(run.account_id, run.id)
    assert final.status == "Failed" and "SecretUnreadableError: secret DB_PASSWORD (version 1) can no longer be read" in final.failure_reason
    assert statuses(stores, run) == ["Pending", "Starting", "Failed"]


def run_step(action: str, stores, backend, run) -> None:
    from load_manager.lifecycle.dispatch import run_step as step

    step({"action": action, "runId": run.id, "accountId": run.account_id}, stores, backend.factory)

