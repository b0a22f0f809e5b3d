"""Driving runs through the API in tests, and watching their Locust processes."""

from __future__ import annotations

import time

import psutil

from load_manager.models.runs import FINAL_STATUSES
from support.scripts import b64


def create_test(client, script: str, target_url: str, **fields) -> str:
    body = {"name": "lifecycle", "scriptContent": b64(script), "targetUrl": target_url, **fields}
    response = client.request("POST", "/v1/load-tests", body=body)
    assert response.status == 201, response.json()
    return response.json()["id"]


def start_run(client, test_id: str, headers=None, **body) -> dict:
    response = client.request("POST", f"/v1/load-tests/{test_id}/runs", body=body, headers=headers)
    assert response.status in (200, 201), response.json()
    return response.json()


def wait_for_status(client, run_id: str, statuses, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.request("GET", f"/v1/runs/{run_id}").json()
        if run["status"] in statuses:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} never reached {statuses}: {run['status']} {run.get('failureReason')}")


def wait_until_final(client, run_id: str, timeout: float = 90) -> dict:
    return wait_for_status(client, run_id, FINAL_STATUSES, timeout)


def locust_work_dirs(run_id: str) -> set[str]:
    """Work directories of live (non-zombie) Locust processes of this run: one per cluster."""
    dirs = set()
    for process in psutil.process_iter(["cmdline", "status"]):
        try:
            if process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            for arg in process.info["cmdline"] or []:
                if f"locust-{run_id}" in arg and arg.endswith(".py"):
                    dirs.add(arg.rsplit("/", 1)[0])
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return dirs


def assert_no_locust_left(run_id: str) -> None:
    deadline = time.monotonic() + 30
    while locust_work_dirs(run_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not locust_work_dirs(run_id), "a Locust process of the run outlived it"

