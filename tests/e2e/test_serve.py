"""`load-manager serve` as a user runs it: real HTTP on loopback, SQLite in a data directory."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest
import requests
from support.scripts import SIMPLE, b64, simple_variant
from support.serve import serve

from load_manager_local.auth import make_unsigned_jwt

pytestmark = pytest.mark.slow


def test_history_workflow_survives_a_restart(tmp_path):
    with serve(tmp_path) as url:
        created = requests.post(f"{url}/v1/load-tests", json={"name": "checkout", "scriptContent": b64(SIMPLE)}, timeout=10)
        assert created.status_code == 201 and created.json()["createdBy"] == "local@localhost"
        tid = created.json()["id"]
        for n in (2, 3):
            r = requests.put(f"{url}/v1/load-tests/{tid}/script", json={"scriptContent": b64(simple_variant(n))}, timeout=10)
            assert r.status_code == 201
        rolled = requests.post(f"{url}/v1/load-tests/{tid}/script/rollback", json={"revision": 1}, timeout=10)
        assert rolled.json()["revisionNumber"] == 4

    with serve(tmp_path) as url:  # same data directory: everything is still there
        revisions = requests.get(f"{url}/v1/load-tests/{tid}/script/revisions", timeout=10).json()["items"]
        assert [r["revisionNumber"] for r in revisions] == [4, 3, 2, 1]
        diff = requests.get(f"{url}/v1/load-tests/{tid}/script/diff", params={"from": 1, "to": 2}, timeout=10).json()
        assert diff["addedLines"] == 1 and diff["removedLines"] == 1
        latest = requests.get(f"{url}/v1/load-tests/{tid}/script", timeout=10).json()
        assert base64.b64decode(latest["scriptContent"]).decode() == SIMPLE


def test_32_concurrent_updates_get_32_distinct_contiguous_numbers(tmp_path):
    # One serve process is one execution environment (its API handlers run one at a time, as in
    # Lambda); two of them on one data directory race for real, across processes.
    with ExitStack() as stack:
        urls = [stack.enter_context(serve(tmp_path)) for _ in range(2)]
        url = urls[0]
        tid = requests.post(f"{url}/v1/load-tests", json={"name": "race", "scriptContent": b64(SIMPLE)}, timeout=10).json()["id"]

        def put(n: int) -> requests.Response:
            # A bundle per writer: a helper module every writer shares, and a data file of its own.
            files = [{"path": "common/helpers.py", "content": b64("PAUSE = 0.1\n")}, {"path": f"data/writer-{n}.csv", "content": b64(f"{n}\n")}]
            body = {"scriptContent": b64(simple_variant(n)), "description": f"writer {n}", "files": files}
            return requests.put(f"{urls[n % 2]}/v1/load-tests/{tid}/script", json=body, timeout=60)

        with ThreadPoolExecutor(max_workers=32) as pool:
            responses = list(pool.map(put, range(100, 132)))
        assert [r.status_code for r in responses] == [201] * 32
        assert [r.json()["description"] for r in responses] == [f"writer {n}" for n in range(100, 132)]
        numbers = sorted(r.json()["revisionNumber"] for r in responses)
        assert numbers == list(range(2, 34))
        listed = requests.get(f"{url}/v1/load-tests/{tid}/script/revisions", params={"limit": 100}, timeout=10).json()["items"]
        assert [r["revisionNumber"] for r in listed] == list(range(33, 0, -1))
        assert requests.get(f"{url}/v1/load-tests/{tid}", timeout=10).json()["latestRevisionNumber"] == 33
        latest = requests.get(f"{url}/v1/load-tests/{tid}/script", timeout=10).json()
        assert latest["revisionNumber"] == 33
        for response in responses:  # each revision holds its own writer's whole bundle
            n, number = int(response.json()["description"].split()[1]), response.json()["revisionNumber"]
            got = requests.get(f"{url}/v1/load-tests/{tid}/script/revisions/{number}/files/data/writer-{n}.csv", timeout=10).json()
            assert base64.b64decode(got["content"]).decode() == f"{n}\n"


def test_bearer_jwt_sets_caller_and_tenant(tmp_path):
    with serve(tmp_path) as url:
        alice = {"Authorization": "Bearer " + make_unsigned_jwt({"sub": "a", "email": "alice@example.com", "email_verified": True, "custom:accountId": "acme", "cognito:groups": ["load-manager-editors"]})}
        created = requests.post(f"{url}/v1/load-tests", json={"name": "x", "scriptContent": b64(SIMPLE)}, headers=alice, timeout=10).json()
        assert created["createdBy"] == "alice@example.com" and created["accountId"] == "acme"
        # The default local caller is another tenant: it cannot see acme's test.
        assert requests.get(f"{url}/v1/load-tests/{created['id']}", timeout=10).status_code == 404
        assert requests.get(f"{url}/v1/load-tests", headers={"Authorization": "Bearer nope"}, timeout=10).status_code == 401
        # API tokens are checked by the template's authorizer, as in AWS: the default (admin) caller makes one.
        token = requests.post(f"{url}/v1/tokens", json={"name": "ci", "role": "viewer"}, timeout=10).json()["token"]
        listed = requests.get(f"{url}/v1/load-tests", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert listed.status_code == 200 and created["id"] not in [t["id"] for t in listed.json()["items"]]  # tenant 'local', not acme
        assert requests.get(f"{url}/v1/load-tests", headers={"Authorization": f"Bearer {token}x"}, timeout=10).json() == {"message": "Unauthorized"}


def test_unknown_routes_404_and_wrong_methods_405_like_api_gateway(tmp_path):
    with serve(tmp_path) as url:
        assert requests.get(f"{url}/v1/nothing", timeout=10).status_code == 404
        assert requests.delete(f"{url}/v1/health", timeout=10).status_code == 405
        assert requests.post(f"{url}/v1/load-tests", data="{oops", headers={"content-type": "application/json"}, timeout=10).json()["code"] == "MalformedJson"
