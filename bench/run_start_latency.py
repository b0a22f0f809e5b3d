"""Run start latency: `POST …/runs` to the first request at the target, vs. raw `locust --headless`.

Measured: a real `load-manager serve` (subprocess, SQLite, the run lifecycle in process, the local
Locust backend, MIN_POLL_SECONDS=1 unless set) kept running across repetitions, so its own start-up
is not part of the figure. One sample = the monotonic time just before the bench process sends
`POST /v1/load-tests/{id}/runs` to the monotonic time the target (running *in the bench process*,
so both timestamps come from one clock) parses its first request. Each run lasts 5 s and is waited
out, teardown included, before the next sample.

Anchor: `python -m locust --headless -f <same script> --host <target> -u N -r N`, started by hand
with Popen: the Popen call to the first request at the target, then the process group is stopped.

Context (no target), to tell where a miss comes from: `backend_only` drives the product's local
backend (`LocalLocustBackend.launch` + `begin`: the bundle laid out, Locust with its web UI and
`--autostart`, begin confirming the load on the web API) from the bench process without the control
plane; `autostart_what_if` starts Locust by hand with its web UI and `--autostart -u N -r N`, i.e.
the backend's floor (no layout, no web guard, no confirmation); each Load Manager sample is split
by the run's status history and its launch record (POST → Starting → launched → first request →
Running).

The four kinds alternate, their order rotated each repetition, after one discarded warm-up round;
medians and the median of paired ratios are reported.

Also the shared plumbing of the run benchmarks (`run_throughput` imports it): the in-process timed
target, `load-manager serve` as a subprocess that is always stopped, raw Locust, the HTTP client.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchlib import ROOT, figure, log, median, paired_ratio, spread, use_project_tree, venv_python

TARGET_MAX_RATIO = 1.15  # issue 16: "the speed the house should have"
USERS = 10
DURATION_S = 5
FINAL = ("Finished", "Failed", "Cancelled")

START_SCRIPT = """\
from locust import HttpUser, between, task


class Visitor(HttpUser):
    wait_time = between(0.1, 0.2)

    @task
    def home(self):
        self.client.get("/")
"""


# ---- shared plumbing (also used by run_throughput) -----------------------------------------------


def _load_target_module():
    """examples/target_service.py, imported by path (it is not a package)."""
    name = "lm_bench_target_service"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / "target_service.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class TimedTarget:
    """The example target in this process, also recording time.monotonic() of its first and last
    counted request (control endpoints excluded), so they compare with the bench's own clock."""

    def __init__(self) -> None:
        module = _load_target_module()

        class TimedCounter(module.RequestCounter):
            def __init__(self) -> None:
                super().__init__()
                self.times_lock = threading.Lock()
                self.first: float | None = None
                self.last: float | None = None
                self.first_seen = threading.Event()

            def record(self, method: str, template: str) -> None:
                now = time.monotonic()
                super().record(method, template)
                with self.times_lock:
                    if self.first is None:
                        self.first = now
                        self.first_seen.set()
                    self.last = max(self.last or now, now)

            def reset(self) -> None:
                with self.times_lock:
                    super().reset()
                    self.first = self.last = None
                    self.first_seen.clear()

        self._server = module.start_target(0)
        # The hook: the example keeps its counter on the HTTP server; ours counts the same way.
        self.counter = TimedCounter()
        httpd = self._server._server
        httpd.counter = self.counter
        default_handle_error = httpd.handle_error

        def handle_error(request, client_address) -> None:
            # A Locust we stop mid-request leaves a broken pipe behind: expected here, not news.
            if not isinstance(sys.exc_info()[1], ConnectionError):
                default_handle_error(request, client_address)

        httpd.handle_error = handle_error
        # The example writes a response's headers and body in two sends: with Nagle on, the body
        # waits for the client's delayed ACK (~40 ms per keep-alive request), which would cap a run
        # at users / (wait + 40 ms) and hide any CPU cost. TCP_NODELAY, as real servers set it.
        httpd.RequestHandlerClass = type(
            "NoDelayTargetHandler", (httpd.RequestHandlerClass,), {"disable_nagle_algorithm": True}
        )
        self.url = self._server.url

    def reset(self) -> None:
        self.counter.reset()

    def wait_first(self, timeout: float) -> float | None:
        return self.counter.first if self.counter.first_seen.wait(timeout) else None

    def window(self) -> tuple[int, float | None, float | None]:
        with self.counter.times_lock:
            return self.counter.total(), self.counter.first, self.counter.last

    def stop(self) -> None:
        self._server.stop()


def _proc_cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return file.read()
    except OSError:
        return b""


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def kill_processes_under(path: Path) -> list[int]:
    """Stop every process whose command line names `path` (a directory only this bench uses: the
    Locust work dirs of the serve we started live under it), by process group. Returns the pids."""
    marker = os.fsencode(str(path))
    found = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid() and marker in _proc_cmdline(int(p))]
    groups = {g for g in (_pgid(p) for p in found) if g and g != os.getpgid(0)}
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for group in groups:
            try:
                os.killpg(group, sig)
            except OSError:
                pass
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and any(marker in _proc_cmdline(p) for p in found):
            time.sleep(0.1)
    for pid in found:  # single processes outside those groups
        if marker in _proc_cmdline(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    return found


def stop_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the process group a Popen(start_new_session=True) leads, then SIGKILL; reaps it."""
    for sig, wait_s in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        if proc.poll() is not None:
            break
        try:
            os.killpg(proc.pid, sig)
        except OSError:
            pass
        try:
            proc.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            continue
    try:  # forked workers may outlive their master for a moment
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    if proc.poll() is None:
        proc.wait(timeout=5)


def child_env(**extra: str) -> dict[str, str]:
    """The environment for Locust and serve: LOCUST_* of the caller would change how Locust runs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def proc_cpu_seconds(pid: int) -> tuple[float, float]:
    """(own utime+stime, reaped children's cutime+cstime) of a live process, in seconds."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as file:
        fields = file.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick, (int(fields[13]) + int(fields[14])) / tick


@dataclass
class Serve:
    url: str
    pid: int
    work_dir: Path  # TMPDIR of serve: its Locust work dirs appear (and disappear) here
    log_path: Path
    min_poll_seconds: str

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@contextmanager
def serve(tmp: Path) -> Iterator[Serve]:
    """`load-manager serve --port 0` on loopback; stopped (and any Locust it left behind) on exit."""
    import requests

    data, work = tmp / "data", tmp / "serve-tmp"
    data.mkdir()
    work.mkdir()
    log_path = tmp / "serve.log"
    min_poll = os.environ.get("MIN_POLL_SECONDS", "1")
    cli = Path(venv_python()).parent / "load-manager"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            [str(cli), "serve", "--port", "0", "--data-dir", str(data), "--log-level", "WARNING"],
            stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, cwd=ROOT,
            env=child_env(TMPDIR=str(work), MIN_POLL_SECONDS=min_poll), start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        url = None
        while url is None:
            found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", log_path.read_text(errors="replace"))
            if found:
                url = found.group(1)
            elif proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"load-manager serve did not start (status {proc.poll()}):\n{log_path.read_text()[-3000:]}")
            else:
                time.sleep(0.05)
        requests.get(f"{url}/v1/health", timeout=5).raise_for_status()
        yield Serve(url=url, pid=proc.pid, work_dir=work, log_path=log_path, min_poll_seconds=min_poll)
    finally:
        # SIGTERM: serve stops its executions; MarkFailed tears their Locust down. Then sweep.
        stop_group(proc, grace=45.0)
        leftovers = kill_processes_under(work)
        if leftovers:
            log(f"killed {len(leftovers)} process(es) left under {work}")


class Client:
    """What a user of the API does, over HTTP."""

    def __init__(self, serve_: Serve) -> None:
        import requests

        self.serve = serve_
        self.http = requests.Session()

    def _check(self, response, status: int) -> dict[str, Any]:
        if response.status_code != status:
            raise RuntimeError(f"{response.request.method} {response.url} -> {response.status_code}: {response.text[:1000]}")
        return response.json()

    def create_test(self, name: str, target_url: str, script: str) -> str:
        body = {"name": name, "targetUrl": target_url, "scriptContent": base64.b64encode(script.encode()).decode()}
        return self._check(self.http.post(f"{self.serve.url}/v1/load-tests", json=body, timeout=30), 201)["id"]

    def start_run(self, test_id: str, *, users: int, spawn_rate: float, duration_s: int, workers: int) -> dict[str, Any]:
        body = {"targetUsers": users, "spawnRate": spawn_rate, "durationSeconds": duration_s, "workers": workers}
        return self._check(self.http.post(f"{self.serve.url}/v1/load-tests/{test_id}/runs", json=body, timeout=30), 201)

    def get_run(self, run_id: str) -> dict[str, Any]:
        return self._check(self.http.get(f"{self.serve.url}/v1/runs/{run_id}", timeout=30), 200)

    def wait_finished(self, run_id: str, timeout: float, interval: float = 0.25) -> dict[str, Any]:
        """Wait for a final status, then for the run's Locust to be torn down (its work dir gone),
        so the next sample starts on a quiet machine. Raises unless the run Finished."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.get_run(run_id)
            if run["status"] in FINAL:
                break
            if time.monotonic() > deadline:
                try:
                    self.http.post(f"{self.serve.url}/v1/runs/{run_id}/stop", timeout=30)
                except Exception:  # noqa: BLE001 - the timeout is the error to report
                    pass
                raise RuntimeError(f"run {run_id} still {run['status']} after {timeout:g} s\n{self.serve.log_tail()}")
            time.sleep(interval)
        while any(p.name.startswith("locust-") for p in self.serve.work_dir.iterdir()) and time.monotonic() < deadline + 30:
            time.sleep(0.05)  # Finalize marks the run Finished, then tears Locust down
        if run["status"] != "Finished":
            raise RuntimeError(f"run {run_id} ended {run['status']}: {run.get('failureReason')}\n{self.serve.log_tail()}")
        return run


def raw_locust(
    script: Path, host: str, users: int, *, log_path: Path, processes: int = 1, run_time_s: int | None = None,
    csv_prefix: Path | None = None, web_ui_autostart: bool = False,
) -> subprocess.Popen:
    """`python -m locust --headless` by hand, in its own process group (stop it with stop_group).
    `web_ui_autostart`: instead of --headless, keep the web UI on a free loopback port and pass
    `--autostart` (Locust swarms as soon as it is up, as headless does, and still serves its API)."""
    mode = ["--headless"]
    if web_ui_autostart:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        mode = ["--autostart", "--web-host", "127.0.0.1", "--web-port", str(port)]
    cmd = [venv_python(), "-m", "locust", *mode, "-f", str(script), "--host", host, "-u", str(users), "-r", str(users)]
    if processes > 1:
        cmd += ["--processes", str(processes)]
    if run_time_s is not None:
        cmd += ["-t", f"{run_time_s}s"]
    if csv_prefix is not None:
        cmd += ["--csv", str(csv_prefix), "--only-summary"]
    with open(log_path, "ab") as log_file:
        return subprocess.Popen(
            cmd, cwd=script.parent, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
            env=child_env(), start_new_session=True,
        )  # fmt: skip


def log_tail(path: Path, chars: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def at_s(history: list[dict], status: str, wall0: float) -> float | None:
    """When the run entered `status`, in seconds after wall-clock time `wall0`."""
    for change in history:
        if change.get("status") == status:
            return round(change["at"] / 1000 - wall0, 4)
    return None


# ---- the figure ----------------------------------------------------------------------------------


def _lm_sample(client: Client, target: TimedTarget, test_id: str) -> dict[str, Any]:
    target.reset()
    wall0, t0 = time.time(), time.monotonic()
    run = client.start_run(test_id, users=USERS, spawn_rate=USERS, duration_s=DURATION_S, workers=1)
    posted = time.monotonic() - t0
    first = target.wait_first(timeout=60)
    launched = _launched_at(client.serve, run["id"])  # while the run's work dir is there
    final = client.wait_finished(run["id"], timeout=DURATION_S + 90)
    if first is None:
        raise RuntimeError(f"run {run['id']} finished without a request reaching the target")
    history = final.get("statusHistory") or []
    return {
        "seconds": first - t0,
        "post_response_s": round(posted, 4),
        "starting_at_s": at_s(history, "Starting", wall0),
        "launched_at_s": round(launched - wall0, 4) if launched else None,
        "running_at_s": at_s(history, "Running", wall0),
    }


def _launched_at(serve_: Serve, run_id: str) -> float | None:
    """Wall-clock time the local backend's launch began (`started_at` of the handle it writes into
    the run's work dir, under serve's TMPDIR): splits the control plane's share from Locust's."""
    for path in serve_.work_dir.glob(f"locust-{re.sub(r'[^A-Za-z0-9_.-]', '-', run_id)[:40]}-*/handle.json"):
        try:
            return float(json.loads(path.read_text())["started_at"])
        except (OSError, ValueError, KeyError):
            continue
    return None


def _raw_sample(script: Path, target: TimedTarget, log_path: Path, *, web_ui_autostart: bool = False) -> dict[str, Any]:
    target.reset()
    t0 = time.monotonic()
    proc = raw_locust(script, target.url, USERS, log_path=log_path, web_ui_autostart=web_ui_autostart)
    try:
        first = target.wait_first(timeout=60)
    finally:
        stop_group(proc)
    if first is None:
        raise RuntimeError(f"raw Locust sent no request within 60 s:\n{log_tail(log_path)}")
    return {"seconds": first - t0}


def _backend_sample(script: str, target: TimedTarget, base_dir: Path, n: int) -> dict[str, Any]:
    """The product's local backend alone, driven from here: no API, store or state machine."""
    from load_manager.backends.base import ClusterSpec
    from load_manager.backends.local import LocalLocustBackend

    backend = LocalLocustBackend(base_dir=str(base_dir))
    spec = ClusterSpec(run_id=f"bench-{n}", script=script, target_url=target.url, users=USERS,
                       spawn_rate=USERS, duration_seconds=DURATION_S, workers=1)  # fmt: skip
    target.reset()
    t0 = time.monotonic()
    handle = backend.launch(spec)
    try:
        backend.begin(handle, spec)
        confirmed = time.monotonic() - t0
        first = target.wait_first(timeout=30)
    finally:
        backend.teardown(handle)
    if first is None:
        raise RuntimeError("the local backend confirmed a swarm that sent no request")
    return {"seconds": first - t0, "begin_returned_s": round(confirmed, 4)}


def run(quick: bool) -> list[dict]:
    use_project_tree()
    # One start varies by up to ±20% here (raw Locust alone took 0.38-0.62 s in one run): 9 pairs
    # keep the median ratio steady to a few percent; 5 moved it by ±5% between runs.
    reps = 3 if quick else 9
    log(f"run_start_latency: {reps} repetitions + 1 warm-up of Load Manager / raw Locust / backend only / autostart, {USERS} users")
    samples: dict[str, list[dict]] = {"lm": [], "raw": [], "backend": [], "autostart": []}
    backend_error: str | None = None
    target = TimedTarget()
    try:
        with tempfile.TemporaryDirectory(prefix="lm-bench-start-") as tmp_name:
            tmp = Path(tmp_name)
            script = tmp / "raw" / "locustfile.py"
            script.parent.mkdir()
            script.write_text(START_SCRIPT)
            backend_dir = tmp / "backend"
            backend_dir.mkdir()
            try:
                with serve(tmp) as srv:
                    client = Client(srv)
                    test_id = client.create_test("bench-start-latency", target.url, START_SCRIPT)
                    kinds = ["lm", "raw", "backend", "autostart"]
                    for rep in range(reps + 1):  # rep 0 warms caches (.pyc, page cache); discarded
                        shift = rep % len(kinds)
                        for kind in kinds[shift:] + kinds[:shift]:
                            if kind == "lm":
                                sample = _lm_sample(client, target, test_id)
                            elif kind == "raw":
                                sample = _raw_sample(script, target, tmp / "raw" / "locust.log")
                            elif kind == "autostart":
                                sample = _raw_sample(script, target, tmp / "raw" / "locust.log", web_ui_autostart=True)
                            else:
                                if backend_error:
                                    continue
                                try:
                                    sample = _backend_sample(START_SCRIPT, target, backend_dir, rep)
                                except Exception as exc:  # context only: never lose the figure for it
                                    backend_error = f"{type(exc).__name__}: {exc}"
                                    continue
                            if rep:
                                samples[kind].append(sample)
                            log(f"run_start_latency: rep {rep}{' (warm-up)' if not rep else ''} {kind}: {sample['seconds']:.3f} s")
                    min_poll = srv.min_poll_seconds
            finally:
                kill_processes_under(backend_dir)
    finally:
        target.stop()

    lm = [s["seconds"] for s in samples["lm"]]
    raw = [s["seconds"] for s in samples["raw"]]

    def med(kind: str, key: str) -> float | None:
        values = [s[key] for s in samples[kind] if s.get(key) is not None]
        return round(median(values), 4) if values else None

    first_after_running = [s["seconds"] - s["running_at_s"] for s in samples["lm"] if s.get("running_at_s") is not None]
    breakdown = {
        "note": "Load Manager samples split by the run's status history (wall clock of serve, same machine), "
        "seconds after the client sent POST …/runs; medians",
        "post_response_s": med("lm", "post_response_s"),
        "starting_at_s": med("lm", "starting_at_s"),
        "launched_at_s": med("lm", "launched_at_s"),
        "first_request_s": round(median(lm), 4),
        "running_at_s": med("lm", "running_at_s"),
        "first_request_before_running_s": round(-median(first_after_running), 4) if first_after_running else None,
    }
    backend = [s["seconds"] for s in samples["backend"]]
    autostart = [s["seconds"] for s in samples["autostart"]]
    details: dict[str, Any] = {
        "users": USERS,
        "spawn_rate": USERS,
        "run_duration_s": DURATION_S,
        "min_poll_seconds": min_poll,
        "lm_s": [round(v, 4) for v in lm],
        "raw_s": [round(v, 4) for v in raw],
        "lm_quartiles_s": {k: round(v, 4) for k, v in spread(lm).items()},
        "raw_quartiles_s": {k: round(v, 4) for k, v in spread(raw).items()},
        "added_over_raw_s": round(median(lm) - median(raw), 4),
        "lm_breakdown": breakdown,
        "backend_only": {
            "note": "context, no target: LocalLocustBackend.launch+begin from the bench process (the bundle laid "
            "out, Locust with web UI and --autostart, begin confirms the load), no API/store/state machine; "
            "launch to first request",
            "median_s": round(median(backend), 4) if backend else None,
            "begin_returned_s": med("backend", "begin_returned_s"),
            "ratio_to_raw": round(median(backend) / median(raw), 4) if backend else None,
            "error": backend_error,
        },
        "autostart_what_if": {
            "note": "context, no target: Locust started by hand with its web UI and `--autostart -u N -r N`: "
            "the local backend's floor (its launch adds the bundle's layout and the web guard); Popen to first request",
            "median_s": round(median(autostart), 4),
            "ratio_to_raw": round(paired_ratio(autostart, raw), 4),
        },
        "clock": "time.monotonic() of the bench process for both ends; the target runs in the bench process",
    }
    return [
        figure(
            "run_start_latency",
            measured=f"`POST /v1/load-tests/{{id}}/runs` ({USERS} users, spawn rate {USERS}, 1 process) on a running "
            "`load-manager serve` to the first request at the target",
            anchor=f"raw `locust --headless -f <same script> --host <target> -u {USERS} -r {USERS}`: Popen to the first request at the target",
            value=median(lm),
            anchor_value=median(raw),
            unit="s",
            max_ratio=TARGET_MAX_RATIO,
            samples=len(lm),
            ratio=paired_ratio(lm, raw),
            ratio_method="median over repetitions of Load Manager sample / the raw Locust sample of the same rotation",
            details=details,
        )
    ]
