"""A pipeline with an API token, as a user sets it up: `load-manager serve` started as a user starts
it, its local admin creates a `runner` token through the API, and the CLI, given the token through
LOAD_MANAGER_TOKEN only, starts a real (short) Locust run and waits for its verdict. Revoked, the
same command exits with the documented authentication code at once (serve's gateway still caches
the authorizer's allow: the function refuses the token all the same), the token list shows
when it was last used and when it was revoked, and the audit log has the creation, the use (the
run the token started) and the revocation."""

from __future__ import annotations

import json

import pytest
import requests
from support.serve import cli, serve

from load_manager_local.commands import EXIT_AUTHENTICATION

pytestmark = pytest.mark.slow

LOCUSTFILE = """from locust import HttpUser, constant, task


class Pipeline(HttpUser):
    wait_time = constant(0.1)

    @task
    def home(self):
        self.client.get("/")
"""


def test_a_runner_token_drives_a_run_until_it_is_revoked(tmp_path, target, monkeypatch):
    (tmp_path / "locustfile.py").write_text(LOCUSTFILE)
    monkeypatch.delenv("LOAD_MANAGER_TOKEN", raising=False)
    with serve(tmp_path / "data") as url:
        created = cli(url, "tests", "create", "--name", "pipeline", "--script", str(tmp_path / "locustfile.py"), "--target-url", target.url,
                      "--users", "2", "--spawn-rate", "2", "--duration", "2", "--json")  # fmt: skip
        assert created.returncode == 0, created.stderr
        test_id = json.loads(created.stdout)["id"]
        # The local admin (no Authorization header) creates the pipeline's token.
        answer = requests.post(f"{url}/v1/tokens", json={"name": "release pipeline", "role": "runner", "expiresInDays": 30}, timeout=30)
        assert answer.status_code == 201, answer.text
        token = answer.json()

        monkeypatch.setenv("LOAD_MANAGER_TOKEN", token["token"])
        started = cli(url, "runs", "start", test_id, "--wait", "--json")
        assert started.returncode == 0, started.stderr
        run = json.loads(started.stdout)
        assert (run["status"], run["createdBy"]) == ("Finished", "token:release pipeline")
        assert run["summary"]["totalRequests"] > 0

        assert requests.delete(f"{url}/v1/tokens/{token['id']}", timeout=30).status_code == 204
        refused = cli(url, "runs", "start", test_id, "--wait", "--json")
        assert refused.returncode == EXIT_AUTHENTICATION == 5, (refused.returncode, refused.stderr)
        assert "401" in refused.stderr and "TokenRevoked" in refused.stderr
        monkeypatch.delenv("LOAD_MANAGER_TOKEN")

        (listed,) = requests.get(f"{url}/v1/tokens", timeout=30).json()["items"]
        assert listed["id"] == token["id"] and listed["revokedAt"] is not None
        assert token["createdAt"] <= listed["lastUsedAt"] <= listed["revokedAt"]
        runs = requests.get(f"{url}/v1/load-tests/{test_id}/runs", timeout=30).json()["items"]
        assert [r["id"] for r in runs] == [run["id"]]  # the refused start started nothing

        # The audit log: the creation and the revocation (by the admin), the use (the token's run start, with its role and id).
        trail = requests.get(f"{url}/v1/audit", params={"target": token["id"]}, timeout=30).json()["items"]
        assert [(r["action"], r["actor"], r["role"]) for r in trail] == [("token.revoke", "local@localhost", "admin"), ("token.create", "local@localhost", "admin")]
        used = requests.get(f"{url}/v1/audit", params={"actor": "token:release pipeline"}, timeout=30).json()["items"]
        assert [(r["action"], r["role"], r["tokenId"], r["target"]["id"], r["target"]["loadTestId"]) for r in used] == [
            ("run.start", "runner", token["id"], run["id"], test_id)]  # fmt: skip
        assert trail[1]["at"] <= used[0]["at"] <= trail[0]["at"]

        # The same trail and the run's usage through the CLI, as an admin reads them from a terminal.
        listed_cli = cli(url, "audit", "list", "--actor", "token:release pipeline")
        assert listed_cli.returncode == 0, listed_cli.stderr
        assert "run.start" in listed_cli.stdout and run["id"] in listed_cli.stdout and "runner" in listed_cli.stdout
        by_target = cli(url, "audit", "list", "--target", token["id"], "--json")
        assert [r["action"] for r in json.loads(by_target.stdout)["items"]] == ["token.revoke", "token.create"], by_target.stderr
        later = cli(url, "audit", "list", "--since", "2200-01-01", "--json")
        assert json.loads(later.stdout)["items"] == [], later.stderr
        usage = cli(url, "usage", "show", "--json")
        assert usage.returncode == 0, usage.stderr
        report = json.loads(usage.stdout)
        assert [(g["key"], g["runs"]) for g in report["items"]] == [(test_id, 1)] and report["total"]["runs"] == 1
        assert report["total"]["vcpuHours"] > 0  # the local Locust process's own CPU time
        table = cli(url, "usage", "show", "--group-by", "test")
        assert table.returncode == 0 and test_id in table.stdout and "total" in table.stdout, table.stderr
