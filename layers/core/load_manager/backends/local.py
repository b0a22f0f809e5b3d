"""The local backend: real Locust processes on this machine, driven through their web API on loopback.

Layout of one cluster, all in one new process group (so teardown can reach every process):

    sh (group leader: waits for Locust, writes its exit code to a file)
     └─ python -c LOADER  (bundle_layout: unpacks the bundle into <work dir>/bundle, installs
        │                  requirements.txt into a cached environment, then execs, same pid:)
        └─ python -m locust  (single process, or master + `--processes N` forked workers),
                             working directory <work dir>/bundle

Nothing lives in this object between calls: the handle carries pids, ports and paths, so a fresh
instance (another Lambda invocation) can sample, stop, collect and tear down. Liveness is read
from /proc, checking each process still runs our work dir: a recycled pid is never mistaken for
(or killed as) ours, and zombies (this machine's init does not reap orphans) count as dead.

Requires Locust installed for `python` (it is never imported here) and a POSIX shell.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from .base import BackendUnavailableError, ClusterHandle, ClusterSpec, ProcessStatus
from .bootstrap import BAD_ARCHIVE, REQUIREMENTS_FAILED
from .bundle_layout import BUNDLE_URL_ENV, loader_command, runtime_archive
from .locust_web import new_secret
from .locust_web import poll as _poll
from .web_backend import LocustWebBackend
from .web_guard import WEB_GUARD_FAILED

LOOPBACK = "127.0.0.1"
LOG_TAIL_LINES = 40
# Written into the work dir once a launch has spawned Locust: what `find_launches` rebuilds it from.
HANDLE_FILE = "handle.json"
# What the bootstrap's own exit codes mean, for the run's failure reason.
BOOTSTRAP_FAILURES = {
    REQUIREMENTS_FAILED: "installing the bundle's requirements.txt failed",
    BAD_ARCHIVE: "the bundle could not be unpacked",
    WEB_GUARD_FAILED: "the web API guard could not be installed",
}

# Two shells, so that a later call with only the handle can learn both Locust's pid and its exit
# code: the inner shell records its own pid and execs Locust; the outer one waits and records the
# exit code (128+N when killed by signal N). Locust runs in the foreground on purpose: a
# backgrounded (`&`) command starts with SIGINT ignored, which would hang the master when it
# interrupts its forked workers on exit. Values are passed as arguments, never spliced in.
_OUTER_SHELL = '"$@"; echo $? > "$0.tmp" && mv "$0.tmp" "$0"'
_INNER_SHELL = 'echo $$ > "$0.tmp" && mv "$0.tmp" "$0" && exec "$@"'

# Popen objects of clusters started by this process, by pgid: lets us reap our own children
# (a stateless call from another process simply finds nothing here).
_children: dict[int, subprocess.Popen] = {}


class LocalLocustBackend(LocustWebBackend):
    name = "local"

    def __init__(
        self,
        *,
        python: str = sys.executable,
        base_dir: str | None = None,
        start_timeout: float = 60.0,
        workers_timeout: float = 30.0,
        swarm_timeout: float = 15.0,
        stop_timeout: float = 30.0,
        grace_seconds: float = 5.0,
        env_cache_dir: str | None = None,
        install_timeout: float = 600.0,
    ):
        """`env_cache_dir` keeps the environments built for bundles' requirements.txt, reused by
        later runs (default: under the temporary folder); `install_timeout` is the extra time a
        start may take when the bundle has requirements."""
        super().__init__(start_timeout=start_timeout, swarm_timeout=swarm_timeout, stop_timeout=stop_timeout, probe_interval=0.05)
        self._python = python
        self._base_dir = base_dir
        self._workers_timeout = workers_timeout
        self._grace_seconds = grace_seconds
        self._env_cache_dir = env_cache_dir or os.path.join(tempfile.gettempdir(), "load-manager-envs")
        self._install_timeout = install_timeout

    # ---- the port ------------------------------------------------------------------------------

    def launch(self, spec: ClusterSpec) -> ClusterHandle:
        """Spawn Locust and return its handle at once, so the caller can record it before waiting.

        The work dir is named after the run and the launch (`locust-<run>-<launch id>`, under the
        base dir): it is on every process's command line, and `find_launches` looks for it."""
        launch_id = spec.launch_id or uuid.uuid4().hex
        work_dir = self._make_work_dir(spec.run_id, launch_id)
        web_port, master_port = _free_loopback_ports(2)
        details: dict[str, Any] = _paths(work_dir, spec.script_name) | {
            "web_port": web_port,
            "master_port": master_port if spec.workers > 1 else None,
            "pgid": None,
            "pid": None,
        }
        handle = ClusterHandle(
            backend=self.name,
            run_id=spec.run_id,
            web_url=f"http://{LOOPBACK}:{web_port}",
            workers=spec.workers,
            started_at=time.time(),
            launch_id=launch_id,
            details=details,
        )
        try:
            # The web secret: in the archive for Locust's web guard, in a private file for later
            # calls (not in the handle, which is stored with the run). Another run's locustfile
            # can reach this loopback port; without the secret it gets 401.
            secret = new_secret()
            _write_private_file(details["web_secret_path"], secret.encode("ascii"))
            _write_private_file(details["archive_path"], runtime_archive(spec, web_secret=secret))
            env = {**dict(spec.env), BUNDLE_URL_ENV: Path(details["archive_path"]).as_uri()}
            with open(details["log_path"], "ab") as log:
                process = subprocess.Popen(
                    ["/bin/sh", "-c", _OUTER_SHELL, details["exit_code_path"],
                     "/bin/sh", "-c", _INNER_SHELL, details["pid_path"],
                     *self._locust_command(spec, details)],
                    cwd=work_dir,
                    env=_child_env(env),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # own session and process group: teardown kills it whole
                )  # fmt: skip
            _children[process.pid] = process
            details["pgid"] = process.pid
            _write_handle(work_dir, handle)
            return handle
        except BaseException as exc:
            raise self._launch_failed(handle, exc) from None

    def find_launches(self, run_id: str, launch_id: str | None = None) -> list[ClusterHandle]:
        """Launches of the run whose work dir is still there: from the handle each launch wrote, or,
        for one that died before writing it, from the processes still running in its work dir."""
        prefix = os.path.join(glob.escape(self._base()), f"locust-{_slug(run_id)}-")
        found = []
        for work_dir in sorted(glob.glob(prefix + (glob.escape(_slug(launch_id)) if launch_id else "*"))):
            handle = _read_handle(work_dir)
            if handle is None:
                groups = _groups_running_in(work_dir)
                if not groups:
                    continue  # nothing runs there: a launch that died before spawning anything
                dir_launch = os.path.basename(work_dir).removeprefix(f"locust-{_slug(run_id)}-")
                details = _paths(work_dir) | {"pgid": min(groups), "pid": None}
                handle = ClusterHandle(backend=self.name, run_id=run_id, web_url="", workers=1, started_at=0.0, launch_id=dir_launch, details=details)
            if handle.run_id == run_id and (launch_id is None or handle.launch_id == launch_id):
                found.append(handle)
        return found

    def _base(self) -> str:
        return self._base_dir or tempfile.gettempdir()

    def _make_work_dir(self, run_id: str, launch_id: str) -> str:
        """Create the launch's work dir (0700); it exists already only if that launch happened."""
        path = os.path.join(self._base(), f"locust-{_slug(run_id)}-{_slug(launch_id)}")
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            if _read_handle(path) is not None or _groups_running_in(path):
                raise BackendUnavailableError(f"launch {launch_id} of run {run_id} exists already: find it rather than launch it") from None
            shutil.rmtree(path, ignore_errors=True)  # what a launch that died before spawning Locust left
            os.mkdir(path, 0o700)
        return path

    def status(self, handle: ClusterHandle) -> ProcessStatus:
        details = handle.details
        _reap(details.get("pgid"))
        exit_code = _read_int(details.get("exit_code_path"))
        pid = _locust_pid(details)
        alive = exit_code is None and pid is not None and _is_ours(pid, details.get("work_dir"))
        pgid = details.get("pgid")
        if not alive and exit_code is None and pgid and _is_ours(pgid, details.get("work_dir")):
            # Locust just died and its shell still runs: give it a moment to write the exit code.
            exit_code = _poll(lambda: _read_int(details.get("exit_code_path")), timeout=1.0)
        reason = "" if alive else BOOTSTRAP_FAILURES.get(exit_code or 0, "Locust exited")
        return ProcessStatus(alive=alive, exit_code=exit_code, log_tail=_tail(details.get("log_path")), reason=reason)

    def teardown(self, handle: ClusterHandle) -> ProcessStatus:
        details = handle.details
        pgid, pid, work_dir = details.get("pgid"), _locust_pid(details), details.get("work_dir")
        if pgid and work_dir:
            group_gone = partial(_group_gone, pgid, work_dir)
            if pid and _is_ours(pid, work_dir):
                # Ask Locust first: the master stops its workers, the shell records the exit code.
                _send_signal(lambda: os.kill(pid, signal.SIGTERM))
                _poll(group_gone, timeout=self._grace_seconds)
            # Whatever is left (workers orphaned by a dead master keep sending load!) goes hard.
            for sig in (signal.SIGTERM, signal.SIGKILL):
                if group_gone():
                    break
                _send_signal(partial(os.killpg, pgid, sig))
                _poll(group_gone, timeout=2.0)
            _reap(pgid, wait_seconds=2.0)
        final = self.status(handle)  # read exit code and log before the directory goes
        if work_dir:
            shutil.rmtree(work_dir, ignore_errors=True)
        return ProcessStatus(alive=False, exit_code=final.exit_code, log_tail=final.log_tail, reason=final.reason)

    # ---- begin ---------------------------------------------------------------------------------

    def _prepare(self, handle: ClusterHandle, spec: ClusterSpec, deadline: float) -> None:
        handle.details["pid"] = handle.details.get("pid") or self._wait_for_locust_pid(handle)

    def _expected_workers(self, spec: ClusterSpec) -> int:
        return spec.workers if spec.workers > 1 else 0  # one worker = a single Locust process

    def _start_seconds(self, spec: ClusterSpec) -> float:
        return self._start_timeout + (self._install_timeout if spec.has_requirements else 0.0)

    def _autostart_seconds(self, spec: ClusterSpec) -> float:
        # Locust starts the load itself (`--autostart`, once its `--processes` workers connect), so
        # the first request is not held back by our probing; the web API swarm is only a fallback.
        return self._swarm_timeout + (self._workers_timeout if spec.workers > 1 else 0)

    def _web_url(self, handle: ClusterHandle) -> str:
        return handle.web_url

    def _web_secret(self, handle: ClusterHandle) -> str | None:
        path = handle.details.get("web_secret_path")
        try:
            with open(path or "", encoding="ascii") as file:
                return file.read().strip() or None
        except OSError:
            return None  # a launch from before secrets, or one torn down

    def _locust_command(self, spec: ClusterSpec, details: dict[str, Any]) -> list[str]:
        # The bootstrap adds `-f <bundle>/<entry>` once the bundle is laid out.
        command = [
            "--host", spec.target_url,
            "--web-host", LOOPBACK,
            "--web-port", str(details["web_port"]),
        ]  # fmt: skip
        # The web UI stays (we read stats and stop through it); no -t: the lifecycle owns the deadline.
        command += ["--autostart", "-u", str(spec.users), "-r", f"{spec.spawn_rate:g}"]
        if spec.workers > 1:
            # `--processes N` forks N workers under this master (autostart waits for all N). The
            # master port must be private too: the default (5557) would collide with any other cluster.
            port = str(details["master_port"])
            command += ["--processes", str(spec.workers), "--expect-workers", str(spec.workers),
                        "--master-bind-host", LOOPBACK, "--master-bind-port", port, "--master-port", port]  # fmt: skip
        options = ("--dest", details["bundle_dir"], "--env-cache", self._env_cache_dir)
        return loader_command(self._python, *options, locust_args=command)

    def _wait_for_locust_pid(self, handle: ClusterHandle) -> int:
        def recorded_pid() -> int | None:
            if _read_int(handle.details["exit_code_path"]) is not None:
                raise self._start_error(handle, "Locust exited during start")
            return _read_int(handle.details["pid_path"])

        pid = _poll(recorded_pid, timeout=10.0, interval=0.01)
        if pid is None:
            raise self._start_error(handle, "Locust's process did not start within 10 s")
        return pid


# ---- helpers ------------------------------------------------------------------------------------


def _free_loopback_ports(count: int) -> list[int]:
    # Hold every socket until all are bound, so the ports differ. Another program may still take
    # one before Locust binds it; Locust then exits and start() reports it.
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((LOOPBACK, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _paths(work_dir: str, script_name: str = "locustfile.py") -> dict[str, Any]:
    """Where a launch keeps its files, all under its work dir."""
    return {
        "work_dir": work_dir,
        "bundle_dir": os.path.join(work_dir, "bundle"),
        "archive_path": os.path.join(work_dir, "bundle.zip"),
        "script_path": os.path.join(work_dir, "bundle", script_name),
        "log_path": os.path.join(work_dir, "locust.log"),
        "pid_path": os.path.join(work_dir, "locust.pid"),
        "exit_code_path": os.path.join(work_dir, "exit_code"),
        "web_secret_path": os.path.join(work_dir, "web-secret"),  # 0600; the master requires it (web_guard)
    }


def _write_handle(work_dir: str, handle: ClusterHandle) -> None:
    tmp = os.path.join(work_dir, HANDLE_FILE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as file:
        json.dump(handle.to_dict(), file)
    os.replace(tmp, os.path.join(work_dir, HANDLE_FILE))  # a reader sees the whole handle or none


def _read_handle(work_dir: str) -> ClusterHandle | None:
    try:
        with open(os.path.join(work_dir, HANDLE_FILE), encoding="utf-8") as file:
            return ClusterHandle.from_dict(json.load(file))
    except (OSError, ValueError, TypeError):
        return None


def _write_private_file(path: str, content: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(content)


# What Locust's processes inherit from the control plane: only what a process needs to run and to
# install a bundle's requirements (the machine's package index and proxies). Never credentials or
# settings: AWS_*, MONGODB_*, the store's paths, LOCUST_* (they would change how Locust runs).
_INHERITED = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR", "TMP", "TEMP",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
})  # fmt: skip
_INHERITED_PREFIXES = ("LC_", "PIP_", "UV_")


def locust_environment(parent: Mapping[str, str], extra: Any) -> dict[str, str]:
    """The environment built for Locust's processes: an allowlist of `parent`, then the run's own."""
    env = {k: v for k, v in parent.items() if k in _INHERITED or k.startswith(_INHERITED_PREFIXES)}
    env.update({str(key): str(value) for key, value in dict(extra or {}).items()})
    env["PYTHONUNBUFFERED"] = "1"  # a crash's last words must reach the log
    return env


def _child_env(extra: Any) -> dict[str, str]:
    return locust_environment(os.environ, extra)


def _slug(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", run_id)[:40] or "run"


def _locust_pid(details: dict[str, Any]) -> int | None:
    """Locust's pid; a handle recorded right after launch has only the file the shell writes it to."""
    return details.get("pid") or _read_int(details.get("pid_path"))


def _read_int(path: str | None) -> int | None:
    if not path:
        return None
    try:
        with open(path, encoding="ascii") as file:
            return int(file.read().strip())
    except (OSError, ValueError):
        return None


def _tail(path: str | None, lines: int = LOG_TAIL_LINES) -> str:
    if not path:
        return ""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return "".join(deque(file, maxlen=lines))
    except OSError:
        return ""


def _reap(pgid: int | None, wait_seconds: float = 0.0) -> None:
    process = _children.get(pgid) if pgid else None
    if process is None:
        return
    try:
        process.wait(timeout=wait_seconds) if wait_seconds else process.poll()
    except subprocess.TimeoutExpired:
        return
    if pgid and process.returncode is not None:
        _children.pop(pgid, None)


def _send_signal(send: Callable[[], None]) -> None:
    try:
        send()
    except (ProcessLookupError, PermissionError):
        pass  # already gone (or, after pid reuse, not ours)


# ---- /proc: who is alive and ours ---------------------------------------------------------------


def _process_info(pid: int) -> tuple[str, int] | None:
    """(state, process group) of a live process, None when gone. Linux /proc."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as file:
            fields = file.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[2])


def _runs_in(pid: int, work_dir: str | None) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            cmdline = file.read()
    except OSError:
        return False
    # An empty command line is a process in the middle of exec (the bundle loader becoming Locust):
    # still the same process, so still ours; a recycled pid would show its own command line.
    return bool(work_dir) and (not cmdline or os.fsencode(work_dir or "") in cmdline)


def _is_ours(pid: int, work_dir: str | None) -> bool:
    if not os.path.isdir("/proc"):  # not Linux: trust the pid
        try:
            os.kill(pid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            return False
    info = _process_info(pid)
    return info is not None and info[0] != "Z" and _runs_in(pid, work_dir)


def _groups_running_in(work_dir: str) -> set[int]:
    """Process groups with a live member whose command line names `work_dir` (Linux /proc)."""
    if not os.path.isdir("/proc"):
        return set()
    groups = set()
    needle = os.fsencode(os.path.join(work_dir, ""))  # the dir itself, not another one it prefixes
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as file:
                cmdline = file.read()
        except OSError:
            continue
        info = _process_info(int(entry)) if needle in cmdline else None
        if info is not None and info[0] != "Z":
            groups.add(info[1])
    return groups


def _group_gone(pgid: int, work_dir: str | None) -> bool | None:
    return not _group_is_ours(pgid, work_dir) or None  # None: keep polling


def _group_is_ours(pgid: int, work_dir: str | None) -> bool:
    """True while a live member of the group still runs our work dir (so killpg is safe)."""
    if not os.path.isdir("/proc"):
        try:
            os.killpg(pgid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            return False
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            info = _process_info(int(entry))
            if info and info[1] == pgid and info[0] != "Z" and _runs_in(int(entry), work_dir):
                return True
    return False
