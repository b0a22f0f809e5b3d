"""`load-manager invoke FUNCTION --event FILE`: one handler, once, against the local stores in a
data directory (what `sam local invoke` does, without Docker), as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.scripts import SIMPLE, b64

from load_manager.identity import Caller
from load_manager.models.automation import EventSource, Trigger
from load_manager.models.load_tests import CreateLoadTestRequest
from load_manager.models.runs import StartRunRequest
from load_manager.store.sqlite import build_sqlite_stores
from load_manager.usecases import load_tests

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
CLI = Path(sys.executable).parent / "load-manager"
ACCOUNT = "acct-example"  # the tenant of the claims in events/
LOOPBACK = "http://127.0.0.1:9"  # load only ever goes to loopback; nothing listens there


def invoke(data_dir: Path, function: str, event: dict | str) -> tuple[int, str]:
    path = event if isinstance(event, str) else "-"
    done = subprocess.run(
        [str(CLI), "invoke", function, "--event", path, "--data-dir", str(data_dir)],
        input=None if isinstance(event, str) else json.dumps(event), capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def seed(data_dir: Path) -> tuple[str, str]:
    """A test and a trigger in the data directory's SQLite, as serve would have left them."""
    stores = build_sqlite_stores(str(data_dir / "load_manager.db"))
    caller = Caller(subject="s", email="alice@example.com", account_id=ACCOUNT, groups=frozenset())
    test = load_tests.create(stores, caller, CreateLoadTestRequest.model_validate({"name": "t", "targetUrl": LOOPBACK, "scriptContent": b64(SIMPLE)}))
    trigger = Trigger(
        id="f" * 32, account_id=ACCOUNT, load_test_id=test.id, name="after deploy", event_pattern={"source": ["aws.codedeploy"]},
        run_settings=StartRunRequest.model_validate({"targetUsers": 1, "durationSeconds": 1}), rule_name="lm-trigger-" + "f" * 32,
        event_bus_name="load-manager", created_at=1, created_by="alice@example.com",
    )  # fmt: skip
    stores.triggers.insert(trigger)
    # The tenant owns the application the delivery's deployment is of (an operator said so).
    stores.event_sources.claim(EventSource(id="e" * 32, owner_account_id=ACCOUNT, kind="codedeployApplication", value="checkout", created_at=1, created_by="ops"))
    return test.id, trigger.id


def test_an_eventbridge_delivery_runs_against_the_data_directory_and_its_run_is_awaited(tmp_path):
    test_id, trigger_id = seed(tmp_path)
    delivery = (ROOT / "events/triggers/eventbridge_codedeploy_success.json").read_text()
    code, out = invoke(tmp_path, "triggers", json.loads(delivery.replace("__TEST_ID__", test_id).replace("__TRIGGER_ID__", trigger_id)))
    fired = json.loads(out[: out.index("\n}") + 2])
    assert code == 0 and fired["outcome"] == "started", out
    assert "waiting for 1 run lifecycle" in out  # the run the delivery started was awaited
    stores = build_sqlite_stores(str(tmp_path / "load_manager.db"))
    run = stores.runs.get(ACCOUNT, fired["runId"])
    assert run.status == "Finished" and run.trigger.trigger_id == trigger_id and run.trigger.event_id == "c3b1d2e4-5f60-4a7b-8c9d-0e1f2a3b4c5d"



def test_bad_invocations_say_why(tmp_path):
    code, out = invoke(tmp_path, "nope", str(ROOT / "events/load_tests/health.json"))
    assert code != 0 and "no function 'nope'" in out and "triggers" in out
    (tmp_path / "broken.json").write_text("{not json")
    code, out = invoke(tmp_path, "LoadTestsFunction", str(tmp_path / "broken.json"))  # logical ids work too
    assert code != 0 and "not JSON" in out
