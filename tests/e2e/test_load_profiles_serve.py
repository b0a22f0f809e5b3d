"""Load profiles, worker indexes and split test data with real Locust, through `serve` as a user
starts it: one run of 2 workers follows a three-stage profile (10 -> 30 -> 5 users) the script
knows nothing of, and shares a 100-row CSV out between its workers, each reading its own share at
import. A loopback target records every request: whose user, which worker said it sent it."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import requests
from support.recording_target import RecordingTarget
from support.scripts import b64
from support.serve import cli, serve, wait_final

pytestmark = pytest.mark.slow

# No shape here: the profile comes from the run. The CSV is read at import, as projects do.
LOCUSTFILE = '''import csv
import os
from collections import deque

from locust import HttpUser, constant, task

with open("data/users.csv", newline="", encoding="utf-8") as file:
    ACCOUNTS = deque(csv.DictReader(file))
SHARE = len(ACCOUNTS)
ENV = {"envIndex": os.environ.get("LOAD_MANAGER_WORKER_INDEX"), "envCount": os.environ.get("LOAD_MANAGER_WORKER_COUNT")}


class Shopper(HttpUser):
    wait_time = constant(0.2)

    @task
    def log_in_each_account_once(self):
        if ACCOUNTS:
            account = ACCOUNTS.popleft()
            facts = {"user": account["username"], "runnerIndex": self.environment.runner.worker_index, "share": SHARE, **ENV}
            self.client.get("/login", params=facts, name="/login")
        else:
            self.client.get("/browse")
'''
USERS_CSV = "username,password\n" + "".join(f"user{n:03d},secret-{n}\n" for n in range(100))
STAGES = [(4, 10), (4, 30), (5, 5)]  # (seconds, users): short, yet each stage spans several 1 s polls
PROFILE = {"stages": [{"durationSeconds": seconds, "users": users, "spawnRate": 100} for seconds, users in STAGES]}


def test_a_profile_drives_the_users_and_each_worker_gets_its_own_rows(tmp_path):
    with RecordingTarget() as target, serve(tmp_path) as url:
        body = {
            "name": "shop", "scriptContent": b64(LOCUSTFILE), "targetUrl": target.url,
            "files": [{"path": "data/users.csv", "content": b64(USERS_CSV)}], "dataSplit": ["data/users.csv"],
        }  # fmt: skip
        created = requests.post(f"{url}/v1/load-tests", json=body, timeout=10)
        assert created.status_code == 201, created.text
        assert created.json()["dataSplit"] == ["data/users.csv"]
        test_id = created.json()["id"]

        # As a pipeline starts it: the profile and the split on the CLI's command line.
        stages = [f"--stage={seconds}s:{users}@100" for seconds, users in STAGES]
        started = cli(url, "runs", "start", test_id, "--workers", "2", *stages, "--data-split", "data/users.csv", "--json")
        assert started.returncode == 0, started.stderr
        run = json.loads(started.stdout)
        assert (run["durationSeconds"], run["targetUsers"], run["dataSplit"]) == (13, 30, ["data/users.csv"])
        final = wait_final(url, run["id"])
        assert final["status"] == "Finished", final.get("failureReason")
        series = requests.get(f"{url}/v1/runs/{run['id']}/metrics", timeout=10).json()
        report = requests.get(f"{url}/v1/runs/{run['id']}/report", timeout=10)

    # The users series follows the profile's three stages, in order (ramps may show values between).
    users = [u for u in series["users"] if u is not None]
    assert _in_order([10, 30, 5], users), f"users series {users} does not show the stages 10 -> 30 -> 5"
    assert max(users) == 30 and final["loadProfile"] == PROFILE
    assert report.status_code == 200 and "10 users for 4 s" in report.text and "Planned users" in report.text

    # Every account logged in exactly once across both workers; each worker read its own half at
    # import and knows its index the same way from Locust and from its environment.
    logins = target.seen("/login")
    assert Counter(s.query["user"] for s in logins) == Counter(f"user{n:03d}" for n in range(100))
    for seen in logins:
        index = int(seen.query["user"][4:]) // 50  # contiguous shares: rows 0-49 to worker 0, 50-99 to worker 1
        assert (seen.query["runnerIndex"], seen.query["envIndex"], seen.query["envCount"], seen.query["share"]) == (str(index), str(index), "2", "50")


def _in_order(wanted: list[int], values: list[int]) -> bool:
    rest = iter(values)
    return all(any(value == want for value in rest) for want in wanted)
