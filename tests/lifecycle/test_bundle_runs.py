"""Runs of bundles through Load Manager (API, the real state machine in moto, real Locust, the
example target): user classes in common/users.py, test data in data/users.csv read next to
`__file__` and from the working directory, a requirements.txt naming a package installed nowhere
(a wheel built here, pip offline), the cached environment reused by the next run, and a failed
install ending the run Failed with pip's message."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from support.runs import start_run, wait_until_final
from support.wheels import build_wheel

pytestmark = pytest.mark.slow

ENTRY = "from common.users import CheckoutUser  # noqa: F401 - Locust finds it in this namespace\n"
USERS = '''import csv
import os

import lm_shop_paths  # installed from requirements.txt, not in the base environment
from locust import HttpUser, constant, task

# Next to this file, the way Locust's examples/testdata_from_csv.py opens its CSV...
with open(os.path.join(os.path.dirname(__file__), "..", "data", "users.csv"), newline="") as file:
    ROWS = list(csv.DictReader(file))
# ...and relative to the working directory, which is the bundle's root.
with open("data/users.csv") as file:
    assert file.read().startswith("name,item")


class CheckoutUser(HttpUser):
    wait_time = constant(0.05)

    @task
    def buy(self):
        for row in ROWS:
            self.client.get(f"/items/{row['item']}", name="/items/[id]")
        self.client.get(lm_shop_paths.CATALOGUE)
'''
CSV = "name,item\nann,3\nbob,5\n"


def b64(data: str) -> str:
    return base64.b64encode(data.encode()).decode()


def bundle_files(requirements: str) -> list[dict]:
    return [
        {"path": "common/__init__.py", "content": ""},
        {"path": "common/users.py", "content": b64(USERS)},
        {"path": "data/users.csv", "content": b64(CSV)},
        {"path": "requirements.txt", "content": b64(requirements)},
    ]


@pytest.fixture
def offline_index(tmp_path, monkeypatch) -> Path:
    """pip sees only a local folder with our wheel (no network, no index)."""
    wheels = build_wheel(tmp_path / "wheels", "lm-shop-paths", "1.0", 'CATALOGUE = "/items"\n').parent
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    return wheels


def create(client, target, requirements: str) -> str:
    body = {"name": "checkout bundle", "scriptContent": b64(ENTRY), "files": bundle_files(requirements), "targetUrl": target.url}
    response = client.request("POST", "/v1/load-tests", body=body)
    assert response.status == 201, response.json()
    return response.json()["id"]


def start_seconds(run: dict) -> float:
    """From Starting to Running: laying the bundle out, installing, Locust's start."""
    at = {change["status"]: change["at"] for change in run["statusHistory"]}
    return (at["Running"] - at["Starting"]) / 1000


def test_a_bundle_with_modules_data_and_requirements_runs_and_the_next_run_reuses_its_environment(client, target, offline_index, tmp_path):
    tid = create(client, target, "lm-shop-paths==1.0\n")
    first = wait_until_final(client, start_run(client, tid, targetUsers=2, durationSeconds=2)["id"], timeout=180)
    assert first["status"] == "Finished", first.get("failureReason")
    counts = target.stats()["byPath"]
    assert counts.get("/items/{id}", 0) > 0 and counts.get("/items", 0) > 0  # CSV rows and the installed package's path
    assert first["summary"]["totalRequests"] > 0 and first["scriptSha256"] == client.request("GET", f"/v1/load-tests/{tid}/script").json()["sha256"]

    envs = tmp_path / "envs"
    (env,) = [path for path in envs.iterdir() if path.is_dir()]
    marker = env / ".load-manager-ready"
    built = (env.stat().st_ino, marker.stat().st_mtime_ns)
    assert list(env.glob("lib/python*/site-packages/lm_shop_paths/__init__.py"))

    served = target.total_requests()
    second = wait_until_final(client, start_run(client, tid, targetUsers=2, durationSeconds=2)["id"], timeout=120)
    assert second["status"] == "Finished", second.get("failureReason")
    assert target.total_requests() > served
    assert [path for path in envs.iterdir() if path.is_dir()] == [env]  # no second environment
    assert (env.stat().st_ino, marker.stat().st_mtime_ns) == built  # the same one, untouched: reused
    print(f"start with install {start_seconds(first):.2f} s, reusing the environment {start_seconds(second):.2f} s")

    script = client.request("GET", f"/v1/runs/{second['id']}/script").json()
    assert [f["path"] for f in script["files"]] == ["common/__init__.py", "common/users.py", "data/users.csv", "locustfile.py", "requirements.txt"]
    archive = client.request("GET", f"/v1/runs/{second['id']}/script/archive")
    assert archive.status == 200 and archive.body[:2] == b"PK"


def test_a_failed_install_ends_the_run_failed_with_pips_message(client, target, offline_index):
    tid = create(client, target, "lm-not-anywhere==9.9\n")
    run = wait_until_final(client, start_run(client, tid, targetUsers=1, durationSeconds=2)["id"], timeout=120)
    assert run["status"] == "Failed"
    reason = run["failureReason"]
    assert "requirements.txt failed" in reason and "lm-not-anywhere" in reason, reason
    assert "No matching distribution" in reason or "Could not find a version" in reason, reason
    assert target.total_requests() == 0
    assert os.environ["PIP_NO_INDEX"] == "1"
