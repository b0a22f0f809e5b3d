"""Tenant code never sees the control plane's credentials or settings: a run started by `serve`,
whose own environment holds AWS credentials and MongoDB settings, runs a locustfile that checks its
environment on the master and on each worker (the ECS path: tests/template)."""

from __future__ import annotations

import pytest
import requests
from support.scripts import ENV_PROBE, b64
from support.serve import serve, wait_final

pytestmark = pytest.mark.slow

CONTROL_PLANE = {
    "AWS_ACCESS_KEY_ID": "AKIACONTROLPLANE", "AWS_SECRET_ACCESS_KEY": "control-plane-secret", "AWS_SESSION_TOKEN": "control-plane-token",
    "MONGODB_URI": "mongodb://control-plane:27017", "MONGODB_SECRET_ID": "load-manager/mongodb",
}  # fmt: skip


def test_locust_processes_get_no_aws_credential_and_no_database_setting(tmp_path, target):
    with serve(tmp_path, extra_env=CONTROL_PLANE) as url:
        body = {"name": "env", "scriptContent": b64(ENV_PROBE), "targetUrl": target.url}
        test_id = requests.post(f"{url}/v1/load-tests", json=body, timeout=10).json()["id"]
        run = requests.post(f"{url}/v1/load-tests/{test_id}/runs", json={"targetUsers": 2, "durationSeconds": 2, "workers": 2}, timeout=10).json()
        final = wait_final(url, run["id"])
    assert final["status"] == "Finished", final.get("failureReason")
    assert [e["name"] for e in final["endpoints"]] == ["environment-clean"] and final["summary"]["totalRequests"] > 0
    assert target.total_requests() > 0
