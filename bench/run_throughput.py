"""Run throughput: requests per second of a run through Load Manager vs. raw Locust, same load.

Measured: a 30 s run (10 s with --quick) of 50 users (spawn rate 50) started with
`POST /v1/load-tests/{id}/runs` on a running `load-manager serve` (local backend, in-process state
machine, MIN_POLL_SECONDS=1 unless set), `workers` = 1 (one Locust process) and 2 (`--processes 2`).
Anchor: raw `python -m locust --headless -f <same script> --host <target> -u 50 -r 50 -t 30s
--csv …` with `--processes` equal to the workers, started by hand.

Two ways to count, each its own figure:
- by the target (the ground truth): requests the target served / the wall time between its first
  and last request (examples/target_service.py, in the bench process);
- as Locust reports it: the run's `summary.rps` vs. raw Locust's Aggregated `Requests/s` (--csv),
  which Locust computes the same way (requests / (last request - start)).

The script waits `between(0.01, 0.02)` between requests, so 50 users ask for ~3,300 req/s: more
than Locust can send here (one process tops out near 2,000 req/s on a core; with two worker
processes Locust and the target fill both cores), so throughput is CPU-bound and what Load Manager
takes from the CPU (serve's polling, its SQLite writes, Locust's web UI) shows. With 20 users the
run is wait-bound instead (~1,150 of the ~1,330 req/s asked for), which would hide that cost. Caveat: the machine's
cores are shared by the target, Locust and serve (and anything else running), so the absolute
numbers mean nothing elsewhere; `details.cpu` says who used how much.

Load Manager and raw runs alternate (order swapped every repetition); the ratio is the median of
paired ratios. Each run is waited out, teardown included, before the next.
"""

from __future__ import annotations

import csv
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from benchlib import figure, log, median, paired_ratio, use_project_tree
from run_start_latency import Client, TimedTarget, kill_processes_under, log_tail, proc_cpu_seconds, raw_locust, serve, stop_group

TARGET_MIN_RATIO = 0.95
USERS = 50

THROUGHPUT_SCRIPT = """\
from locust import HttpUser, between, task


class Visitor(HttpUser):
    wait_time = between(0.01, 0.02)

    @task
    def home(self):
        self.client.get("/")
"""


def _target_rps(target: TimedTarget) -> dict[str, Any]:
    total, first, last = target.window()
    if not total or first is None or last is None or last <= first:
        raise RuntimeError(f"the target saw no load window (requests: {total})")
    return {"target_rps": total / (last - first), "target_requests": total, "target_window_s": round(last - first, 3)}


def _lm_sample(client: Client, target: TimedTarget, test_id: str, workers: int, duration_s: int) -> dict[str, Any]:
    target.reset()
    serve_own0, serve_children0 = proc_cpu_seconds(client.serve.pid)
    bench0 = time.process_time()
    run = client.start_run(test_id, users=USERS, spawn_rate=USERS, duration_s=duration_s, workers=workers)
    final = client.wait_finished(run["id"], timeout=duration_s + 120)  # also waits out the teardown
    serve_own1, serve_children1 = proc_cpu_seconds(client.serve.pid)
    summary = final.get("summary") or {}
    sample = _target_rps(target)
    return sample | {
        "locust_rps": float(summary.get("rps") or 0.0),
        "locust_requests": summary.get("totalRequests"),
        "run_duration_s": summary.get("durationSeconds"),
        "serve_cpu_s": round(serve_own1 - serve_own0, 2),
        "locust_cpu_s": round(serve_children1 - serve_children0, 2),  # serve reaps Locust at teardown
        "target_cpu_s": round(time.process_time() - bench0, 2),
    }


def _aggregated_rps(csv_path: Path) -> tuple[float, int]:
    with open(csv_path, newline="") as file:
        for row in csv.DictReader(file):
            if row.get("Name") == "Aggregated":
                return float(row["Requests/s"]), int(row["Request Count"])
    raise RuntimeError(f"no Aggregated row in {csv_path}")


def _raw_sample(script: Path, target: TimedTarget, workers: int, duration_s: int, tmp: Path, n: int) -> dict[str, Any]:
    target.reset()
    log_path, prefix = tmp / f"raw-{n}.log", tmp / f"raw-{n}"
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    bench0 = time.process_time()
    proc = raw_locust(script, target.url, USERS, log_path=log_path, processes=workers, run_time_s=duration_s, csv_prefix=prefix)
    try:
        status = proc.wait(timeout=duration_s + 90)
    finally:
        stop_group(proc)
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if status != 0:
        raise RuntimeError(f"raw Locust exited with {status}:\n{log_tail(log_path)}")
    rps, requests = _aggregated_rps(Path(f"{prefix}_stats.csv"))
    sample = _target_rps(target)
    return sample | {
        "locust_rps": rps,
        "locust_requests": requests,
        "locust_cpu_s": round((children1.ru_utime + children1.ru_stime) - (children0.ru_utime + children0.ru_stime), 2),
        "target_cpu_s": round(time.process_time() - bench0, 2),
    }


def run(quick: bool) -> list[dict]:
    use_project_tree()
    duration_s = 10 if quick else 30
    plan = {1: 2, 2: 1} if quick else {1: 3, 2: 3}  # workers -> pairs
    log(f"run_throughput: {USERS} users, {duration_s} s runs, pairs per worker count {plan}, Load Manager vs raw Locust")
    samples: dict[int, dict[str, list[dict]]] = {w: {"lm": [], "raw": []} for w in plan}
    load_before = os.getloadavg()
    target = TimedTarget()
    try:
        with tempfile.TemporaryDirectory(prefix="lm-bench-throughput-") as tmp_name:
            tmp = Path(tmp_name)
            raw_dir = tmp / "raw"
            raw_dir.mkdir()
            script = raw_dir / "locustfile.py"
            script.write_text(THROUGHPUT_SCRIPT)
            try:
                with serve(tmp) as srv:
                    client = Client(srv)
                    test_id = client.create_test("bench-throughput", target.url, THROUGHPUT_SCRIPT)
                    n = 0
                    for rep in range(max(plan.values())):
                        for workers, pairs in plan.items():
                            if rep >= pairs:
                                continue
                            kinds = ["lm", "raw"] if (rep + workers) % 2 else ["raw", "lm"]
                            for kind in kinds:
                                n += 1
                                if kind == "lm":
                                    sample = _lm_sample(client, target, test_id, workers, duration_s)
                                else:
                                    sample = _raw_sample(script, target, workers, duration_s, raw_dir, n)
                                samples[workers][kind].append(sample)
                                log(
                                    f"run_throughput: workers={workers} rep {rep} {kind}: target {sample['target_rps']:.0f} req/s, "
                                    f"Locust {sample['locust_rps']:.0f} req/s"
                                )
                    min_poll = srv.min_poll_seconds
            finally:
                kill_processes_under(raw_dir)
    finally:
        target.stop()
    load_after = os.getloadavg()

    figures = []
    for workers in plan:
        lm, raw = samples[workers]["lm"], samples[workers]["raw"]

        def values(kind_samples: list[dict], key: str) -> list[float]:
            return [s[key] for s in kind_samples]

        def med(kind_samples: list[dict], key: str) -> float | None:
            found = [s[key] for s in kind_samples if s.get(key) is not None]
            return round(median(found), 2) if found else None

        common = {
            "users": USERS,
            "spawn_rate": USERS,
            "workers": workers,
            "run_duration_s": duration_s,
            "min_poll_seconds": min_poll,
            "script_wait_time": "between(0.01, 0.02), one GET /",
            "caveat": f"{os.cpu_count()} cores shared by the target (bench process), Locust and serve, and by anything "
            "else running: absolute req/s are this machine's; the paired ratio is the figure",
            "loadavg_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
            "cpu": {
                "note": "CPU seconds per run, medians: serve = the control plane itself (API, state machine, polling, "
                "SQLite); locust = all Locust processes of the run; target = the bench process (the target)",
                "lm_serve_cpu_s": med(lm, "serve_cpu_s"),
                "lm_locust_cpu_s": med(lm, "locust_cpu_s"),
                "raw_locust_cpu_s": med(raw, "locust_cpu_s"),
                "lm_target_cpu_s": med(lm, "target_cpu_s"),
                "raw_target_cpu_s": med(raw, "target_cpu_s"),
            },
        }
        lm_target, raw_target = values(lm, "target_rps"), values(raw, "target_rps")
        figures.append(
            figure(
                f"run_throughput.workers_{workers}",
                measured=f"req/s served by the target during a {duration_s} s Load Manager run ({USERS} users, workers={workers}): "
                "its request count / (last - first request)",
                anchor=f"the same, for raw `locust --headless -u {USERS} -r {USERS} -t {duration_s}s"
                f"{f' --processes {workers}' if workers > 1 else ''}` started by hand",
                value=median(lm_target),
                anchor_value=median(raw_target),
                unit="req/s",
                min_ratio=TARGET_MIN_RATIO,
                samples=len(lm),
                ratio=paired_ratio(lm_target, raw_target),
                ratio_method="median over repetitions of Load Manager run / the raw Locust run beside it",
                details=common
                | {
                    "lm_rps": [round(v, 1) for v in lm_target],
                    "raw_rps": [round(v, 1) for v in raw_target],
                    "lm_requests": values(lm, "target_requests"),
                    "raw_requests": values(raw, "target_requests"),
                    "lm_window_s": values(lm, "target_window_s"),
                    "raw_window_s": values(raw, "target_window_s"),
                    "lm_reported_requests": values(lm, "locust_requests"),
                    "lm_run_duration_s": values(lm, "run_duration_s"),
                },
            )
        )
        lm_reported, raw_reported = values(lm, "locust_rps"), values(raw, "locust_rps")
        figures.append(
            figure(
                f"run_throughput.workers_{workers}.locust_reported",
                measured=f"the run's `summary.rps` (Locust's Aggregated total_rps), same Load Manager runs (workers={workers})",
                anchor="raw Locust's Aggregated `Requests/s` from --csv, same raw runs",
                value=median(lm_reported),
                anchor_value=median(raw_reported),
                unit="req/s",
                min_ratio=TARGET_MIN_RATIO,
                samples=len(lm),
                ratio=paired_ratio(lm_reported, raw_reported),
                ratio_method="median over repetitions of Load Manager run / the raw Locust run beside it",
                details=common
                | {
                    "lm_rps": [round(v, 1) for v in lm_reported],
                    "raw_rps": [round(v, 1) for v in raw_reported],
                    "raw_requests": values(raw, "locust_requests"),
                },
            )
        )
    return figures
