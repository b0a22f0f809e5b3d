"""The local backend: real Locust processes on this machine, driven through their web API on loopback.

Layout of one cluster, all in one new process group (so teardown can reach every process):

    sh (group leader: waits for Locust, writes its exit code to a file)
     └─ python -c LOADER  (bundle_layout: unpacks the bundle into <work dir>/bundle, installs
        │                  requirements.txt into a cached environment, then execs, same pid:)
        └─ python -m locust  (single process, or the master), working directory <work dir>/bundle

With more than one worker, each worker is such a group of its own, in <work dir>/worker-<i>, with
its own data share and variables (local_workers.py). In a run with secrets, the process the inner
shell execs stays as the relay that masks them in the log, and Locust is its child: the pid, the
signals and the exit code are the relay's, which passes them on (redaction.py). Every process's HOME
is <work dir>/home (local_processes.launch_home), never the user's.

A bundle without requirements.txt needs nothing of the loader but the layout and the web guard:
`launch` does both itself, with the bootstrap's own functions, and the shell execs Locust directly
(one interpreter start and the loader's urllib fewer: ~60 ms of a ~0.4 s start, see `_process`).

Nothing lives in this object between calls: the handle carries pids, ports and paths, so a fresh
instance (another Lambda invocation) can sample, stop, collect and tear down. Liveness is read
from /proc, checking each process still runs our work dir: a recycled pid is never mistaken for
(or killed as) ours, and zombies (this machine's init does not reap orphans) count as dead.

Requires Locust installed for `python` (it is never imported here) and a POSIX shell.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from functools import partial
from pathlib import Path
from typing import Any

from . import locust_hooks
from .base import BackendUnavailableError, ClusterHandle, ClusterSpec, ProcessStatus, TaskUsage
from .bootstrap import locust_command, locustfile_paths, unpack, web_guard_env
from .bundle_layout import BOOTSTRAP_FAILURES, BUNDLE_URL_ENV, loader_command, runtime_archive
from .local_processes import (
    LOOPBACK,
    free_loopback_ports,
    groups_running_in,
    is_group_gone,
    is_ours,
    launch_home,
    locust_pid,
    mtime,
    read_handle,
    read_int,
    read_tail,
    reap,
    send_signal,
    slug,
    work_paths,
    write_handle,
    write_private_file,
)
from .local_workers import slot_env, spawn, stop_groups, worker_args, worker_exit, worker_paths, worker_spec_env
from .locust_hooks import prepare as prepare_hooks
from .locust_web import new_secret
from .locust_web import poll as _poll
from .web_backend import LocustWebBackend

# Two shells, so that a later call with only the handle can learn both Locust's pid and its exit
# code: the inner shell records its own pid and execs Locust; the outer one waits and records the
# exit code (128+N when killed by signal N). Locust runs in the foreground on purpose: a
# backgrounded (`&`) command starts with SIGINT ignored, which would hang the master when it
# interrupts its forked workers on exit. Values are passed as arguments, never spliced in.
_OUTER_SHELL = '"$@"; echo $? > "$0.tmp" && mv "$0.tmp" "$0"'
_INNER_SHELL = 'echo $$ > "$0.tmp" && mv "$0.tmp" "$0" && exec "$@"'
_SHELLS = (_OUTER_SHELL, _INNER_SHELL)


def _poll_for(done, timeout: float) -> None:
    _poll(done, timeout=timeout)


class LocalLocustBackend(LocustWebBackend):
    name = "local"

    def __init__(
        self,
        *,
        python: str = sys.executable,
        base_dir: str | None = None,
        start_timeout: float = 60.0,
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
        web_port, master_port = free_loopback_ports(2)
        details: dict[str, Any] = work_paths(work_dir, spec.script_name) | {
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
            write_private_file(details["web_secret_path"], secret.encode("ascii"))
            archive = runtime_archive(spec, web_secret=secret)
            write_private_file(details["archive_path"], archive)
            command, cwd, env = self._process(spec, details, archive)
            details["pgid"] = spawn(_SHELLS, command, cwd, env, details["log_path"], details["exit_code_path"], details["pid_path"])
            # Workers of their own beside the master (local_workers.py); one worker = a single process.
            details["worker_pgids"] = [self._spawn_worker(spec, details, archive, i) for i in range(spec.workers if spec.workers > 1 else 0)]
            write_handle(work_dir, handle)
            return handle
        except BaseException as exc:
            raise self._launch_failed(handle, exc) from None

    def find_launches(self, run_id: str, launch_id: str | None = None) -> list[ClusterHandle]:
        """Launches of the run whose work dir is still there: from the handle each launch wrote, or,
        for one that died before writing it, from the processes still running in its work dir."""
        prefix = os.path.join(glob.escape(self._base()), f"locust-{slug(run_id)}-")
        found = []
        for work_dir in sorted(glob.glob(prefix + (glob.escape(slug(launch_id)) if launch_id else "*"))):
            handle = read_handle(work_dir)
            if handle is None:
                groups = groups_running_in(work_dir)
                if not groups:
                    continue  # nothing runs there: a launch that died before spawning anything
                dir_launch = os.path.basename(work_dir).removeprefix(f"locust-{slug(run_id)}-")
                details = work_paths(work_dir) | {"pgid": min(groups), "pid": None}
                handle = ClusterHandle(backend=self.name, run_id=run_id, web_url="", workers=1, started_at=0.0, launch_id=dir_launch, details=details)
            if handle.run_id == run_id and (launch_id is None or handle.launch_id == launch_id):
                found.append(handle)
        return found

    def live_launches(self) -> list[ClusterHandle]:
        """Every launch whose work dir is still under the base dir (`locust-<run>-<launch>`), oldest
        first: teardown removes it, so one still there is running or was never torn down. Another
        runtime's (same base dir, other data) are listed too; the sweeper leaves runs it does not know."""
        found = []
        for work_dir in glob.glob(os.path.join(glob.escape(self._base()), "locust-*")):
            handle = read_handle(work_dir)
            if handle is None:
                run_slug, _, launch_slug = os.path.basename(work_dir).removeprefix("locust-").rpartition("-")
                groups = groups_running_in(work_dir)
                if not (run_slug and groups):
                    continue  # not a launch's, or one that died before spawning anything
                details = work_paths(work_dir) | {"pgid": min(groups), "pid": None}
                handle = ClusterHandle(
                    backend=self.name, run_id=run_slug, web_url="", workers=1, started_at=0.0, launch_id=launch_slug, details=details
                )
            found.append((handle.started_at or mtime(work_dir), handle))
        return [handle for _, handle in sorted(found, key=lambda pair: pair[0])]

    def task_usage(self, handle: ClusterHandle) -> list[TaskUsage] | None:
        """Nothing sizes local processes: what they used is their own readings (generator_usage.py)."""
        return None

    def _base(self) -> str:
        return self._base_dir or tempfile.gettempdir()

    def _make_work_dir(self, run_id: str, launch_id: str) -> str:
        """Create the launch's work dir (0700); it exists already only if that launch happened."""
        path = os.path.join(self._base(), f"locust-{slug(run_id)}-{slug(launch_id)}")
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            if read_handle(path) is not None or groups_running_in(path):
                raise BackendUnavailableError(f"launch {launch_id} of run {run_id} exists already: find it rather than launch it") from None
            shutil.rmtree(path, ignore_errors=True)  # what a launch that died before spawning Locust left
            os.mkdir(path, 0o700)
        return path

    def status(self, handle: ClusterHandle) -> ProcessStatus:
        details = handle.details
        reap(details.get("pgid"))
        exit_code = read_int(details.get("exit_code_path"))
        pid = locust_pid(details)
        alive = exit_code is None and pid is not None and is_ours(pid, details.get("work_dir"))
        pgid = details.get("pgid")
        if not alive and exit_code is None and pgid and is_ours(pgid, details.get("work_dir")):
            # Locust just died and its shell still runs: it writes the exit code as soon as it gets
            # the CPU (returns at once when it does; the limit only matters on a starved machine).
            exit_code = _poll(lambda: read_int(details.get("exit_code_path")), timeout=10.0)
        reason = "" if alive else BOOTSTRAP_FAILURES.get(exit_code or 0, "Locust exited")
        status = ProcessStatus(alive=alive, exit_code=exit_code, log_tail=read_tail(details.get("log_path")), reason=reason)
        return worker_exit(details, status, BOOTSTRAP_FAILURES)  # a worker that exited ends the run too

    def teardown(self, handle: ClusterHandle) -> ProcessStatus:
        details = handle.details
        pgid, pid, work_dir = details.get("pgid"), locust_pid(details), details.get("work_dir")
        if pgid and work_dir:
            group_gone = partial(is_group_gone, pgid, work_dir)
            if pid and is_ours(pid, work_dir):
                # Ask Locust first: the master stops its workers, the shell records the exit code.
                send_signal(lambda: os.kill(pid, signal.SIGTERM))
                _poll(group_gone, timeout=self._grace_seconds)
            # Whatever is left (workers orphaned by a dead master keep sending load!) goes hard.
            for sig in (signal.SIGTERM, signal.SIGKILL):
                if group_gone():
                    break
                send_signal(partial(os.killpg, pgid, sig))
                _poll(group_gone, timeout=2.0)
            reap(pgid, wait_seconds=2.0)
        if work_dir:  # the workers' groups (they quit with the master), and anything else still running there
            stop_groups([*(details.get("worker_pgids") or []), *groups_running_in(work_dir)], work_dir, _poll_for)
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

    def _autostarts(self, spec: ClusterSpec) -> bool:
        return spec.workers <= 1  # see _locust_args

    def _web_url(self, handle: ClusterHandle) -> str:
        return handle.web_url

    def _web_secret(self, handle: ClusterHandle) -> str | None:
        path = handle.details.get("web_secret_path")
        try:
            with open(path or "", encoding="ascii") as file:
                return file.read().strip() or None
        except OSError:
            return None  # a launch from before secrets, or one torn down

    def _process(self, spec: ClusterSpec, details: dict[str, Any], archive: bytes) -> tuple[list[str], str, dict[str, str]]:
        """What the launch's shell execs, in which directory, with which variables (over the allowlist).

        Without requirements.txt the bundle is laid out and the web guard armed here, by the
        bootstrap's own functions, and the shell execs Locust itself, sparing the loader's own
        interpreter and its urllib (~60 ms): launch to first request went from 1.30x to 1.03x raw
        Locust's (bench/run_start_latency.py `backend_only`, medians of 3 runs), level with Locust
        started by hand with --autostart. With requirements.txt the loader runs as everywhere else:
        pip may take minutes, and must run in the launched process group, not in `launch`."""
        args = self._locust_args(spec, details)
        env = {**spec.process_env(), **slot_env(0 if spec.workers <= 1 else None, spec.workers)}  # a single process is worker 0 of 1
        env.update(launch_home(details["work_dir"], spec.has_requirements))  # not the user's HOME (~/.locust.conf)
        if spec.has_requirements:
            env[BUNDLE_URL_ENV] = Path(details["archive_path"]).as_uri()
            options = ("--dest", details["bundle_dir"], "--env-cache", self._env_cache_dir)
            return loader_command(self._python, *options, locust_args=args), details["work_dir"], env
        # The guard's folder (secret included) lives in the work dir: gone at teardown even if Locust never starts.
        env.update(web_guard_env(archive, env.get("PYTHONPATH", ""), parent=details["work_dir"]))
        return self._direct_command(archive, details["bundle_dir"], env, args), details["bundle_dir"], env

    def _direct_command(self, archive: bytes, folder: str, env: dict[str, str], args: list[str]) -> list[str]:
        """Lay the bundle out in `folder` and prepare it as the loader would (this process's data
        share, the runtime hooks: locust_hooks.prepare), then Locust's own command."""
        manifest = unpack(archive, folder)
        extra = prepare_hooks(Path(locust_hooks.__file__).read_bytes(), manifest, folder, env)
        return locust_command(self._python, ",".join([*locustfile_paths(folder, manifest), *extra]), args)

    def _spawn_worker(self, spec: ClusterSpec, details: dict[str, Any], archive: bytes, index: int) -> int:
        """Worker `index`'s own process (local_workers.py): its own folder, data share and variables."""
        paths = worker_paths(details["work_dir"], index)
        env, args = worker_spec_env(spec, index) | launch_home(details["work_dir"], spec.has_requirements), worker_args(details["master_port"])
        if spec.has_requirements:
            env[BUNDLE_URL_ENV] = Path(details["archive_path"]).as_uri()
            options = ("--dest", paths["folder"], "--env-cache", self._env_cache_dir)
            command, cwd = loader_command(self._python, *options, locust_args=args), details["work_dir"]
        else:
            # Its sitecustomize and plugins (the redaction, its CPU and memory for the master), no secret: a worker has no web UI.
            env.update(web_guard_env(archive, env.get("PYTHONPATH", ""), parent=details["work_dir"], web_ui=False))
            command, cwd = self._direct_command(archive, paths["folder"], env, args), paths["folder"]
        return spawn(_SHELLS, command, cwd, env, details["log_path"], paths["exit_code_path"], paths["pid_path"])

    def _locust_args(self, spec: ClusterSpec, details: dict[str, Any]) -> list[str]:
        """Locust's own arguments (`-f <bundle>/<entry>` comes with the command). The web UI stays
        (we read stats and stop through it); no -t: the lifecycle owns the deadline."""
        command = [
            "--host", spec.target_url,
            "--web-host", LOOPBACK,
            "--web-port", str(details["web_port"]),
        ]  # fmt: skip
        if spec.workers <= 1:
            # Locust starts the load itself once it is up: the first request waits for no web API
            # round trip; begin only confirms the state.
            return command + ["--autostart", "-u", str(spec.users), "-r", f"{spec.spawn_rate:g}"]
        # A master; its N workers are processes of their own (local_workers.py). No --autostart here:
        # Locust's own wait for workers polls once a second (main.py, start_automatic_run), and a
        # state read meanwhile pins a cached "ready" for 2 s. Measured with 2 workers, 10 users
        # (medians of 4, forked workers then): first request 1.77 s and load confirmed 2.75 s with
        # --autostart, 0.86 s and 0.77 s when begin waits for the workers on /worker-count and swarms.
        # Workers of their own (each imports Locust itself) cost more on 2 cores: first request 1.03 s,
        # load confirmed 0.95 s, against 0.81 s and 0.66 s forked (medians of 5, same machine, issue 17).
        # The master port must be private too: the default (5557) would collide with any other cluster.
        port = str(details["master_port"])
        return command + ["--master", "--master-bind-host", LOOPBACK, "--master-bind-port", port]

    def _wait_for_locust_pid(self, handle: ClusterHandle) -> int:
        def recorded_pid() -> int | None:
            if read_int(handle.details["exit_code_path"]) is not None:
                raise self._start_error(handle, "Locust exited during start")
            return read_int(handle.details["pid_path"])

        pid = _poll(recorded_pid, timeout=10.0, interval=0.01)
        if pid is None:
            raise self._start_error(handle, "Locust's process did not start within 10 s")
        return pid
