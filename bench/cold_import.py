"""Cold import of each Lambda handler module vs. a bare Powertools resolver + pymongo.

Every sample is a fresh interpreter (the project's .venv python) that times only the import
statement(s), so interpreter start-up and site-packages scanning are excluded from both sides.
The handler is imported the way Lambda does: its function directory first on sys.path, `import app`,
the layer package (`layers/core`, Lambda's /opt/python) importable, the template's environment
(STORE_BACKEND=mongo, a MONGODB_URI): stores are created lazily, so no database is touched.

Handler and anchor runs alternate (ABAB, order swapped every repetition); medians are reported.
A separate `-X importtime` run per handler lists where the time goes, to act on a miss.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from benchlib import LAYER, ROOT, figure, log, median, paired_ratio, spread, venv_python

# API functions (an HTTP resolver's routes) may cost no more than the bare resolver plus the Mongo
# driver (issue 16); the event handlers (state machine tasks, sweeper, console publisher) are held
# to the looser bound they had: the lifecycle they run is a different job than one resolver's.
TARGET_MAX_RATIO = 1.0
NON_API_MAX_RATIO = 1.25
MARK = "BENCH_RESULT "
START = "BENCH_IMPORT_START"

ANCHOR_IMPORT = """\
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
app = APIGatewayHttpResolver(enable_validation=True)
import pymongo
"""
ANCHOR_DESCRIPTION = "import of a bare `APIGatewayHttpResolver(enable_validation=True)` plus `import pymongo`, fresh interpreter"
HANDLER_IMPORT = "import app\n"
# Context only: the handlers build their Mongo store lazily, so pymongo is paid on the first request.
WITH_MONGO_IMPORT = "import app\nimport pymongo\nimport load_manager.store.mongo\n"

# Modules whose presence after the handler import is worth flagging (the cold path should not pay them).
WATCHED = ("pymongo", "boto3", "botocore", "requests", "urllib3", "locust", "gevent", "moto", "aws_xray_sdk")

CHILD = """\
import sys, time, json
sys.path.insert(0, {path!r})
print({start!r}, file=sys.stderr, flush=True)  # -X importtime rows after this are the timed import
_t0 = time.perf_counter()
{body}
_t1 = time.perf_counter()
_store = sys.modules.get("load_manager.store")
_mongo = sys.modules.get("load_manager.store.mongo.db")  # where the clients live
print({mark!r} + json.dumps({{
    "seconds": _t1 - _t0,
    "modules": len(sys.modules),
    "has_lambda_handler": callable(getattr(sys.modules.get("app"), "lambda_handler", None)),
    "stores_built": getattr(_store, "_stores", None) is not None,
    "mongo_clients": len(getattr(_mongo, "_clients", {{}}) or {{}}),
    "watched": sorted(m for m in {watched!r} if m in sys.modules),
}}))
"""


def lambda_env(function_name: str) -> dict[str, str]:
    """The template's function environment; identical for handler and anchor runs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and not k.startswith("POWERTOOLS_")}
    env.update(
        PYTHONPATH=str(LAYER),
        POWERTOOLS_SERVICE_NAME="load-manager",
        POWERTOOLS_LOG_LEVEL="INFO",
        POWERTOOLS_METRICS_NAMESPACE="LoadManager",
        STORE_BACKEND="mongo",
        # Never contacted: nothing listens on port 9, and stores are built on first request only.
        MONGODB_URI="mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=100",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        AWS_LAMBDA_FUNCTION_NAME=function_name,
    )
    return env


def handler_modules() -> list[Path]:
    return sorted(ROOT.glob("functions/*/app.py"))


def is_api_function(handler: Path) -> bool:
    """A function that serves API routes (an APIGatewayHttpRouter), not an event handler."""
    return "APIGatewayHttpRouter" in handler.read_text()


def _child(function_dir: Path, body: str, *, importtime: bool = False) -> tuple[dict, str]:
    code = CHILD.format(path=str(function_dir), body=body, mark=MARK, start=START, watched=WATCHED)
    cmd = [venv_python()] + (["-X", "importtime"] if importtime else []) + ["-c", code]
    proc = subprocess.run(
        cmd, cwd=function_dir, env=lambda_env(function_dir.name), capture_output=True, text=True, timeout=120
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith(MARK)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"import failed in {function_dir} (status {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len(MARK):]), proc.stderr


def parse_importtime(stderr: str) -> list[dict]:
    """The import tree of the timed statement(s), from `-X importtime` output.

    Rows after the START marker only (interpreter start-up imports are not part of the figure).
    Rows come in post-order, children before their parent, nested two spaces per level.
    Returns the top-level nodes: {"module", "self_us", "cum_us", "children"}.
    """
    lines = stderr.splitlines()
    if START in lines:
        lines = lines[lines.index(START) + 1:]
    pending: dict[int, list[dict]] = defaultdict(list)
    for line in lines:
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:"):].split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue  # the header line
        raw = parts[2][1:]  # one space after the bar, then two spaces per nesting level
        level = (len(raw) - len(raw.lstrip())) // 2
        node = {"module": raw.strip(), "self_us": int(parts[0]), "cum_us": int(parts[1]), "children": pending.pop(level + 1, [])}
        pending[level].append(node)
    return pending.get(0, [])


def _walk(nodes: list[dict]):
    for node in nodes:
        yield node
        yield from _walk(node["children"])


def import_profile(function_dir: Path, anchor_modules: set[str], runs: int) -> dict:
    """Median self/cumulative times per module over `runs` importtime runs; the top entries."""
    self_us: dict[str, list[int]] = defaultdict(list)
    direct_cum: dict[str, list[int]] = defaultdict(list)
    for _ in range(runs):
        _, stderr = _child(function_dir, HANDLER_IMPORT, importtime=True)
        roots = parse_importtime(stderr)
        for node in _walk(roots):
            self_us[node["module"]].append(node["self_us"])
        for root in roots:
            if root["module"] == "app":
                for child in root["children"]:
                    direct_cum[child["module"]].append(child["cum_us"])
    med_self = {name: median(v) for name, v in self_us.items()}
    med_direct = {name: median(v) for name, v in direct_cum.items()}

    def top(items: dict[str, float], n: int = 5) -> list[dict]:
        return [{"module": k, "ms": round(v / 1000, 2)} for k, v in sorted(items.items(), key=lambda kv: -kv[1])[:n]]

    extra = {k: v for k, v in med_self.items() if k not in anchor_modules}
    return {
        "note": "from `python -X importtime` (inflates absolute times), medians over runs; "
        "top_direct_imports_cumulative: app's own imports incl. what they pull in first",
        "runs": runs,
        "top_self": top(med_self),
        "top_self_not_in_anchor": top(extra),
        "self_ms_not_in_anchor": round(sum(extra.values()) / 1000, 1),
        "modules_not_in_anchor": len(extra),
        "top_direct_imports_cumulative": top(med_direct),
    }


def run(quick: bool) -> list[dict]:
    reps = 5 if quick else 15
    profile_runs = 1 if quick else 3
    handlers = handler_modules()
    if not handlers:
        raise RuntimeError("no functions/*/app.py found")
    log(f"cold_import: {len(handlers)} handler(s), {reps} repetitions + 1 warm-up, alternating with the anchor")

    anchor_dir = handlers[0].parent  # same cwd/sys.path shape as a handler run; imports nothing from it
    anchor_s: list[float] = []
    # Per handler, per repetition: the handler's samples and the anchor run of the same rotation.
    paired_anchor_s: dict[Path, list[float]] = {h: [] for h in handlers}
    handler_s: dict[Path, list[float]] = {h: [] for h in handlers}
    with_mongo_s: dict[Path, list[float]] = {h: [] for h in handlers}
    last_info: dict[Path, dict] = {}
    anchor_info: dict = {}
    kinds = ["anchor", "handler", "with_mongo"]
    for rep in range(reps + 1):  # repetition 0 warms the OS file cache and writes .pyc files; discarded
        for handler in handlers:
            shift = rep % len(kinds)  # rotate the order so no kind always runs first
            for kind in kinds[shift:] + kinds[:shift]:
                if kind == "anchor":
                    anchor_info, _ = _child(anchor_dir, ANCHOR_IMPORT)
                    if rep:
                        anchor_s.append(anchor_info["seconds"])
                        paired_anchor_s[handler].append(anchor_info["seconds"])
                elif kind == "handler":
                    info, _ = _child(handler.parent, HANDLER_IMPORT)
                    last_info[handler] = info
                    if rep:
                        handler_s[handler].append(info["seconds"])
                else:
                    info, _ = _child(handler.parent, WITH_MONGO_IMPORT)
                    if rep:
                        with_mongo_s[handler].append(info["seconds"])

    _, anchor_stderr = _child(anchor_dir, ANCHOR_IMPORT, importtime=True)
    anchor_modules = {node["module"] for node in _walk(parse_importtime(anchor_stderr))}
    anchor_ms = median(anchor_s) * 1000

    figures = []
    for handler in handlers:
        rel = handler.relative_to(ROOT).as_posix()
        info = last_info[handler]
        if not info["has_lambda_handler"]:
            raise RuntimeError(f"{rel} imported but has no callable lambda_handler")
        samples_ms = [s * 1000 for s in handler_s[handler]]
        value_ms = median(samples_ms)
        pairs = paired_anchor_s[handler]
        figures.append(
            figure(
                f"cold_import.{handler.parent.name}",
                measured=f"wall time of `import app` for {rel} in a fresh interpreter, Lambda-style sys.path and env",
                anchor=ANCHOR_DESCRIPTION,
                value=value_ms,
                anchor_value=anchor_ms,
                unit="ms",
                max_ratio=TARGET_MAX_RATIO if is_api_function(handler) else NON_API_MAX_RATIO,
                samples=len(samples_ms),
                ratio=paired_ratio(handler_s[handler], pairs),
                ratio_method="median over repetitions of handler run / the anchor run beside it (same rotation)",
                details={
                    "ratio_of_minimums": round(min(handler_s[handler]) / min(anchor_s), 4),
                    "handler_ms_quartiles": {k: round(v, 1) for k, v in spread(samples_ms).items()},
                    "anchor_ms_quartiles": {k: round(v * 1000, 1) for k, v in spread(anchor_s).items()},
                    "modules_loaded": info["modules"],
                    "anchor_modules_loaded": anchor_info.get("modules"),
                    "stores_built_at_import": info["stores_built"],
                    "mongo_clients_at_import": info["mongo_clients"],
                    "watched_modules_imported": info["watched"],
                    "anchor_watched_modules_imported": anchor_info.get("watched"),
                    "with_mongo_driver": {
                        "note": "context, no target: `import app` + pymongo + load_manager.store.mongo, i.e. what the "
                        "first request adds on AWS (STORE_BACKEND=mongo builds its store lazily); connecting is extra",
                        "median_ms": round(median(with_mongo_s[handler]) * 1000, 1),
                        "ratio": round(paired_ratio(with_mongo_s[handler], pairs), 4),
                    },
                    "import_profile": import_profile(handler.parent, anchor_modules, profile_runs),
                },
            )
        )
    return figures


# ---- what the layer's lazy imports save (tests/unit/test_house.py asks each to say it) -------------

# Each import the layer makes inside a function, with the handler whose cold path it stays off: the
# figure is the import's own time in a fresh interpreter that has already imported that handler
# (`import app`, untimed), i.e. what importing it at module level would add to that cold start.
LAZY_IMPORTS: dict[str, tuple[str, str]] = {
    "boto3": ("load_tests", "import boto3\nfrom botocore.config import Config"),
    "powertools parameters (boto3)": ("load_tests", "from aws_lambda_powertools.utilities import parameters"),
    "store.mongo (pymongo)": ("load_tests", "import load_manager.store.mongo"),
    "store.sqlite": ("load_tests", "import load_manager.store.sqlite"),
    "mongomock": ("load_tests", "import mongomock"),
    "backends.local": ("run_workflow", "import load_manager.backends.local"),
    "backends.ecs (boto3)": ("run_workflow", "import load_manager.backends.ecs"),
    "backends.ecs (sweeper: security groups)": ("sweeper", "import load_manager.backends.ecs"),
    "usecases.bundles": ("run_workflow", "import load_manager.usecases.bundles"),
    "usecases.run_report": ("run_workflow", "import load_manager.usecases.run_report"),
    "report.render": ("results", "import load_manager.report.render"),
    "report pages (results: page routes)": ("results", "from load_manager.usecases import report_pages"),
    "pip_requirements_parser": ("scripts", "import pip_requirements_parser"),
    "packaging.requirements": ("scripts", "from packaging.requirements import Requirement\nfrom packaging.utils import canonicalize_name"),
    "importlib.metadata": ("scripts", "from importlib import metadata"),
    "bundle.analysis": ("runs", "import load_manager.bundle.analysis"),
    "lifecycle.notifications (notify: a run's end)": ("runs", "from load_manager.lifecycle import notifications"),
    "flask": ("run_workflow", "import flask"),
    "deploy boto3": ("console_publisher", "import boto3"),
    # Other areas' use cases and models, off the import of functions whose every route does not need them.
    "load tests models (notify.drain)": ("runs", "from load_manager.models.load_tests import LastRun"),
    "scripts area (runs: start, script)": ("runs", "from load_manager.usecases import scripts"),
    "scripts area (runs: archive)": ("runs", "from load_manager.usecases.bundles import archive_of"),
    "clusters (runs: start)": ("runs", "from load_manager.usecases.clusters import resolve_cluster"),
    "scripts area (load_tests: create)": ("load_tests", "from load_manager.usecases import bundles, scripts"),
    "scripts area (results: compare)": ("results", "from load_manager.usecases import scripts"),
    "variables area (runs: start)": ("runs", "from load_manager.usecases.variables import run_environment"),
    "analysis.autostop (runs: start)": ("runs", "from load_manager.analysis.autostop import DEFAULT_AUTO_STOP"),
    "runs use case (triggers: deliveries, run settings)": ("triggers", "from load_manager.usecases import runs"),
    "usecases.tokens (http: an API token caller's check)": ("load_tests", "from load_manager.usecases.tokens import confirm_active"),
    "usecases.audit (authorizer: tokens resolved, never written)": ("authorizer", "from load_manager.usecases import audit"),
    "models.audit (the trail's answer: the access function only)": ("load_tests", "import load_manager.models.audit"),
    "hashlib (store.ports.audit: a record's digests)": ("load_tests", "import hashlib"),
    "PyJWT and cryptography (authorizer: a JWT to verify)": ("authorizer", "import jwt\nfrom jwt import PyJWKClient\nimport jwt.algorithms"),
    "usecases.budget (runs: a start, only with a vCPU budget)": ("runs", "from load_manager.usecases import budget"),
    "usecases.usage (runs: a dry run)": ("runs", "from load_manager.usecases import usage"),
    "usecases.usage (access: GET /v1/usage, off the tokens routes)": ("access", "from load_manager.usecases import usage"),
    "load tests and runs use cases (access: usage sums never start runs)": ("access", "from load_manager.usecases import load_tests, runs"),
    "dependents (load_tests: a delete removes what was the test's)": ("load_tests", "from load_manager.usecases import dependents"),
    "dependents (sweeper: a deleted test's leftovers)": ("sweeper", "from load_manager.usecases import dependents"),
}

LAZY_CHILD = """\
import sys, time
sys.path.insert(0, {path!r})
import app
_t0 = time.perf_counter()
{body}
print({mark!r} + repr((time.perf_counter() - _t0) * 1000))
"""


def lazy_import_costs(reps: int = 7) -> dict[str, dict]:
    """Median ms of each lazy import on top of its handler's cold import (one discarded warm-up)."""
    found: dict[str, dict] = {}
    for name, (function, body) in LAZY_IMPORTS.items():
        function_dir = ROOT / "functions" / function
        samples = []
        for rep in range(reps + 1):
            code = LAZY_CHILD.format(path=str(function_dir), body=body, mark=MARK)
            proc = subprocess.run(
                [venv_python(), "-c", code], cwd=function_dir, env=lambda_env(function), capture_output=True, text=True, timeout=120
            )
            lines = [line for line in proc.stdout.splitlines() if line.startswith(MARK)]
            if proc.returncode != 0 or not lines:
                raise RuntimeError(f"lazy import {name!r} failed (status {proc.returncode}):\n{proc.stderr[-3000:]}")
            if rep:
                samples.append(float(lines[-1][len(MARK):]))
        found[name] = {"after": f"functions/{function}/app.py", "median_ms": round(median(samples), 1), **{
            k: round(v, 1) for k, v in spread(samples).items()}}  # fmt: skip
        log(f"lazy import {name}: {found[name]['median_ms']} ms after functions/{function}")
    return found


if __name__ == "__main__":
    # python bench/cold_import.py --lazy: the figures the lazy imports' comments quote.
    if sys.argv[1:] != ["--lazy"]:
        raise SystemExit("usage: python bench/cold_import.py --lazy   (the cold_import figures: bench/run.py --only cold_import)")
    print(json.dumps(lazy_import_costs(), indent=2))
