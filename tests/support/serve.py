"""Run `load-manager serve` as a real subprocess on a free loopback port, always stopped after."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
CLI = Path(sys.executable).parent / "load-manager"


@contextmanager
def serve(data_dir: Path, extra_env: dict[str, str] | None = None, extra_args: tuple[str, ...] = (), output: list[str] | None = None) -> Iterator[str]:
    """serve's URL; `output` collects the lines it prints after its "listening on" line (its banner, its log)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    proc = subprocess.Popen(
        [str(CLI), "serve", "--port", "0", "--data-dir", str(data_dir), "--log-level", "WARNING", *extra_args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env, start_new_session=True,
    )
    try:
        url = _wait_for_url(proc)
        # Keep reading what serve prints: a full pipe would block serve at its next log line.
        threading.Thread(target=_drain, args=(proc, output), name="serve-output", daemon=True).start()
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


def cli(url: str, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """The `load-manager` CLI against this serve, as a pipeline runs it."""
    env = {**os.environ, "LOAD_MANAGER_API_URL": url, "COLUMNS": "200"}
    return subprocess.run([str(CLI), *args], env=env, capture_output=True, text=True, timeout=timeout)


def wait_final(url: str, run_id: str, timeout: float = 180) -> dict:
    """The run, read through serve's API, once it has ended (AssertionError after `timeout` s)."""
    deadline = time.monotonic() + timeout
    while True:
        run = requests.get(f"{url}/v1/runs/{run_id}", timeout=10).json()
        if run["status"] in ("Finished", "Failed", "Cancelled"):
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {run['status']} after {timeout} s")
        time.sleep(0.3)


def _drain(proc: subprocess.Popen, output: list[str] | None) -> None:
    try:
        for line in proc.stdout:
            if output is not None:
                output.append(line.rstrip("\n"))
    except (OSError, ValueError):  # closed at teardown
        pass


def _wait_for_url(proc: subprocess.Popen, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            raise RuntimeError(f"load-manager serve exited with {proc.returncode}")
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if found:
            url = found.group(1)
            requests.get(f"{url}/v1/health", timeout=5).raise_for_status()
            return url
    raise RuntimeError("load-manager serve did not start in time")
