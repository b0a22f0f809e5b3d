"""Run the benchmarks and print one JSON document of ratio figures to stdout.

    .venv/bin/python bench/run.py                 # everything (make bench)
    .venv/bin/python bench/run.py --quick         # fewer repetitions, < 1 min
    .venv/bin/python bench/run.py --only cold_import --only revision_latency

Each benchmark module runs in its own interpreter (`--worker`), so one cannot skew another
(imports already cached, gevent monkey-patching by Locust, leftover threads) and a crash in one is
reported without losing the others. Progress goes to stderr.

Exit status: 0 when every selected benchmark ran (targets missed or not; see `--strict`),
1 with `--strict` when a target was missed, 2 when a benchmark failed to run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from benchlib import ROOT, log  # noqa: E402

# The registry: module names under bench/, each exposing `run(quick: bool) -> list[dict]`.
# Adding a benchmark = adding its module and one line here.
BENCHMARKS: list[str] = [
    "cold_import",
    "revision_latency",
    "run_start_latency",
    "run_throughput",
    "console",
    "aws_calls_per_poll",
    "bundle_env_reuse",
    "trigger_latency",
    "results_latency",
    "finalize_scaling",
]

WORKER_TIMEOUT_S = 900


def run_worker(name: str, quick: bool, out: str) -> int:
    """Inside the child interpreter: run one module and write its figures to `out`."""
    try:
        module = importlib.import_module(name)
        figures = module.run(quick)
        for fig in figures:
            fig.setdefault("benchmark", name)
        payload = {"figures": figures}
        status = 0
    except BaseException as exc:  # noqa: BLE001 - reported, not swallowed
        payload = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        status = 1
    Path(out).write_text(json.dumps(payload))
    return status


def run_in_child(name: str, quick: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="lm-bench-") as tmp:
        out = os.path.join(tmp, "result.json")
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--out", out]
        if quick:
            cmd.append("--quick")
        started = time.perf_counter()
        try:
            # The child's stdout (e.g. handler logs) goes to our stderr: stdout is for the JSON only.
            proc = subprocess.run(cmd, stdout=sys.stderr, stderr=sys.stderr, timeout=WORKER_TIMEOUT_S, cwd=ROOT)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {WORKER_TIMEOUT_S}s"}
        elapsed = time.perf_counter() - started
        if not os.path.exists(out):
            return {"error": f"worker exited with status {proc.returncode} without a result", "seconds": elapsed}
        result = json.loads(Path(out).read_text())
        result["seconds"] = round(elapsed, 1)
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", metavar="NAME", help=f"run only this benchmark (repeatable; one of {', '.join(BENCHMARKS)})")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (smoke run, < 1 min)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--out", metavar="FILE", help="also write the JSON document to FILE (e.g. bench/results/latest.json)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--worker", metavar="NAME", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        return run_worker(args.worker, args.quick, args.out)
    if args.list:
        print("\n".join(BENCHMARKS))
        return 0

    selected = [n for item in (args.only or BENCHMARKS) for n in item.split(",") if n]
    unknown = [n for n in selected if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")

    started = time.perf_counter()
    figures: list[dict] = []
    errors: list[dict] = []
    durations: dict[str, float] = {}
    for name in selected:
        log(f"{name}: running{' (quick)' if args.quick else ''}")
        result = run_in_child(name, args.quick)
        durations[name] = result.get("seconds")
        if "error" in result:
            log(f"{name}: FAILED: {result['error']}")
            errors.append({"benchmark": name, "error": result["error"], "traceback": result.get("traceback")})
            continue
        figures.extend(result["figures"])
        for fig in result["figures"]:
            log(f"{name}: {fig['name']}: ratio {fig['ratio']} target {fig['target']} {'met' if fig['met'] else 'MISSED'}")

    missed = [f["name"] for f in figures if not f["met"]]
    document = {
        "schema": 1,
        "quick": args.quick,
        "benchmarks": selected,
        "environment": {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "summary": {
            "figures": len(figures),
            "met": len(figures) - len(missed),
            "missed": missed,
            "errors": [e["benchmark"] for e in errors],
            "all_met": not missed and not errors,
            "seconds": round(time.perf_counter() - started, 1),
            "seconds_per_benchmark": durations,
        },
        "figures": figures,
        "errors": errors,
    }
    text = json.dumps(document, indent=2)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")
    if errors:
        return 2
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
