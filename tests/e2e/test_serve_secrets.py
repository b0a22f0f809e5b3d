"""A secret through `serve` as a user starts it, with real Locust (a master and 2 workers) against a
loopback target that records every request: the locustfile sends os.environ["API_TOKEN"] as a
header, prints it, logs it, raises with it in a task, and makes Locust report it (an error message,
an endpoint name); a second run of the same test dies at import saying it. The target sees the
value on every request. While the run runs, what its Locust processes write (the launch's
locust.log) shows each of those lines with the value masked; afterwards the value is found nowhere
(the data directory, the runs, the reports, the events, the failure reason's log tail, what serve
printed, the temporary folder) but the secret store's file."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from support.polling import eventually
from support.recording_target import RecordingTarget
from support.scripts import b64
from support.serve import serve, wait_final

pytestmark = pytest.mark.slow

TOKEN = "tok-7c4e9a1d3b5f8e2a"
LOCUSTFILE = '''import logging
import os

from locust import HttpUser, constant, task

TOKEN = os.environ["API_TOKEN"]  # the master imports this too: without the secret it would not start
print(f"locustfile loaded with {TOKEN} and greeting {os.environ['GREETING']}", flush=True)
if os.environ.get("CRASH") == "yes":
    raise RuntimeError(f"refusing to run with token {TOKEN}")


class Api(HttpUser):
    wait_time = constant(0.1)

    @task(4)
    def data(self):
        self.client.get("/data", headers={"Authorization": f"Bearer {TOKEN}"})

    @task
    def denied(self):  # Locust's own error message names the URL, the endpoint name the query
        self.client.get(f"/denied?token={TOKEN}", headers={"Authorization": f"Bearer {TOKEN}"})

    @task
    def broken(self):  # Locust logs the traceback and keeps the exception for its report
        logging.getLogger("locustfile").warning("about to fail with %s", TOKEN)
        raise RuntimeError(f"task failed with {TOKEN}")
'''
# What the launch's locust.log (master and workers) shows while the run runs: each process's import,
# the task's log line and Locust's traceback of its exception, all masked.
WHILE_RUNNING = ("locustfile loaded with *** and greeting hello", "about to fail with ***", "RuntimeError: task failed with ***")


def test_a_secret_reaches_every_request_and_nothing_else_keeps_it(tmp_path):
    data, printed, tmp = tmp_path / "data", [], tmp_path / "tmp"
    tmp.mkdir()
    with RecordingTarget() as target, serve(data, extra_env={"TMPDIR": str(tmp)}, output=printed) as url:  # launches' work dirs in tmp
        test_id = _call("POST", f"{url}/v1/load-tests", {"name": "api", "scriptContent": b64(LOCUSTFILE), "targetUrl": target.url}, 201)["id"]
        secret = _call("PUT", f"{url}/v1/secrets", {"name": "API_TOKEN", "value": TOKEN})  # the local caller administers its tenant
        settings = {"targetUsers": 4, "spawnRate": 4, "durationSeconds": 4, "workers": 2, "variables": {"GREETING": "hello"}}
        run = _call("POST", f"{url}/v1/load-tests/{test_id}/runs", settings, 201)
        crashing = _call("POST", f"{url}/v1/load-tests/{test_id}/runs", {**settings, "variables": {"GREETING": "hi", "CRASH": "yes"}}, 201)
        running_log = eventually(lambda: _log_showing(tmp, run["id"]), timeout=60, every=0.1)
        final, crashed = wait_final(url, run["id"]), wait_final(url, crashing["id"])  # side by side: the crash costs no time of its own
        events = eventually(lambda: _events_with(data, f"{final['id']}:RunFinished", f"{crashed['id']}:RunFinished"), timeout=60)
        answers = [requests.get(f"{url}{path}", timeout=30) for path in (
            f"/v1/runs/{run['id']}", f"/v1/runs/{crashed['id']}", f"/v1/runs/{run['id']}/report", f"/v1/runs/{run['id']}/locust-report",
            f"/v1/runs/{run['id']}/metrics", f"/v1/runs/{run['id']}/stats", f"/v1/load-tests/{test_id}/runs", "/v1/secrets",
        )]  # fmt: skip

    assert final["status"] == "Finished", final.get("failureReason")
    # Locust's own output, the locustfile's prints, logs and tracebacks: masked in the processes themselves.
    assert running_log and TOKEN not in running_log, running_log or "the run's locust.log never showed every line while it ran"
    # Every request carried the value: the workers had it; the master had it too, or it would not have started.
    received = target.received()
    assert len(received) >= 20 and {r.headers.get("authorization") for r in received} == {f"Bearer {TOKEN}"}
    assert {r.path for r in received} == {"/data", "/denied"}
    assert final["secrets"] == [{"name": "API_TOKEN", "level": "account", "id": secret["id"], "version": 1, "reference": None}]
    assert [(v["name"], v["value"], v["level"]) for v in final["variables"]] == [("GREETING", "hello", "run")]
    assert any(e["error"].count("***") and "401" in e["error"] for e in final["errors"]), final["errors"]  # Locust's own message, redacted
    assert "/denied?token=***" in {e["name"] for e in final["endpoints"]}
    assert crashed["status"] == "Failed" and "refusing to run with token ***" in crashed["failureReason"], crashed["failureReason"]

    for answer in answers:
        assert answer.status_code == 200, (answer.url, answer.text[:300])
        assert TOKEN not in answer.text, answer.url
    assert "***" in answers[3].text  # Locust's own report shows where it was
    assert not any(TOKEN in line for line in printed), "serve printed the value"
    assert "refusing to run with token ***" in events
    holding = sorted(str(p.relative_to(data)) for p in data.rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes())
    assert holding == [f"secrets/local/{secret['id']}.json"], holding
    assert not [p for p in tmp.rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]


def _log_showing(tmp: Path, run_id: str) -> str | None:
    """The run's locust.log once it shows every line of WHILE_RUNNING (the import by all 3 processes)."""
    text = "".join(p.read_text(errors="replace") for p in tmp.glob(f"locust-{run_id}-*/locust.log"))
    return text if text.count(WHILE_RUNNING[0]) >= 3 and all(line in text for line in WHILE_RUNNING) else None


def _events_with(data, *event_ids: str) -> str | None:
    """The events serve's bus recorded, once they include these (RunFinished leaves the outbox after teardown)."""
    path = data / "events.jsonl"
    text = path.read_text() if path.exists() else ""
    return text if all(f'"{event_id}"' in text for event_id in event_ids) else None


def _call(method: str, url: str, body: dict, status: int = 200) -> dict:
    answer = requests.request(method, url, json=body, timeout=30)
    assert answer.status_code == status, answer.text
    return answer.json()
