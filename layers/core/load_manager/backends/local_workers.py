"""The local backend's workers: with more than one, each is a Locust process of its own
(`--worker`, started beside the `--master`), as each is a task on ECS, never a fork of the master
(`--processes`). A fork shares the master's import of the locustfile, so a worker could neither see
its own LOAD_MANAGER_WORKER_INDEX at import nor read its own share of a `dataSplit` file; here each
worker has its own bundle folder (`<work dir>/worker-<i>`), cut to its share by the bootstrap's
hooks (locust_hooks.prepare) before Locust starts, and its own variables.

Each worker runs under the same two shells as the master (its pid and exit code in files beside its
folder), in its own process group: teardown stops the master's group, then every group still running
in the work dir. A worker that exits ends the run, as the master's exit does (`worker_exit`).
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from .base import ClusterSpec, ProcessStatus
from .local_processes import LOOPBACK, child_env, children, is_group_gone, read_int, reap, send_signal
from .locust_hooks import slot_env


def worker_paths(work_dir: str, index: int) -> dict[str, str]:
    folder = os.path.join(work_dir, f"worker-{index}")
    return {"folder": folder, "pid_path": folder + ".pid", "exit_code_path": folder + ".exit_code"}


def worker_args(master_port: int) -> list[str]:
    return ["--worker", "--master-host", LOOPBACK, "--master-port", str(master_port)]


def spawn(shells: Sequence[str], command: list[str], cwd: str, env: Mapping[str, str], log_path: str, exit_code_path: str, pid_path: str) -> int:
    """Start `command` under the outer and inner shells (`shells`: their scripts), in a new session
    and process group, its output appended to the log. Returns the group id (the outer shell's pid)."""
    outer, inner = shells
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            ["/bin/sh", "-c", outer, exit_code_path, "/bin/sh", "-c", inner, pid_path, *command],
            cwd=cwd, env=child_env(env), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # own session and process group: teardown kills it whole
        )  # fmt: skip
    children[process.pid] = process
    return process.pid


def worker_spec_env(spec: ClusterSpec, index: int) -> dict[str, str]:
    return {**spec.process_env(), **slot_env(index, spec.workers)}


def worker_exit(details: Mapping[str, Any], status: ProcessStatus, failures: Mapping[int, str]) -> ProcessStatus:
    """`status` (the master's), or a dead status if a worker has exited: its exit code and why."""
    work_dir = details.get("work_dir")
    if not status.alive or not work_dir:
        return status
    for index in range(len(details.get("worker_pgids") or [])):
        code = read_int(worker_paths(work_dir, index)["exit_code_path"])
        if code is not None:
            reason = failures.get(code, "Locust exited")
            return ProcessStatus(alive=False, exit_code=code, log_tail=status.log_tail, reason=f"worker {index}: {reason}")
    return status


def stop_groups(pgids: Sequence[int], work_dir: str, wait: Any) -> None:
    """SIGTERM, then SIGKILL, each group still running our work dir; reap what we started.
    `wait(done, timeout)` polls `done` until it is true or the time is up."""
    for pgid in dict.fromkeys(pgids):
        gone = partial(is_group_gone, pgid, work_dir)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if gone():
                break
            send_signal(partial(os.killpg, pgid, sig))
            wait(gone, 2.0)
        reap(pgid, wait_seconds=2.0)
