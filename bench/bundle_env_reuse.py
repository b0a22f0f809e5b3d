"""A bundle with requirements.txt: the second run's start against the first's.

The first run of a bundle builds the environment for its requirements.txt (a virtual environment
plus `pip install` of a wheel built here, offline); every later run with the same requirements
reuses it. Measured with the local backend, as `load-manager serve` runs it: launch + begin (the
bundle laid out, the environment built or reused, Locust up, load confirmed), i.e. a run's
Starting -> Running. Each sample uses a fresh environment cache, so the first start really builds.

Figure: second start / first start (lower is better; the target says reuse must save at least a
quarter of the first start, which on this machine is mostly pip). Anchor: the first start.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchlib import ROOT, figure, log, median, paired_ratio, use_project_tree

TARGET_MAX_RATIO = 0.75
USERS = 2


def _spec(target_url: str):
    from load_manager.backends.base import ClusterSpec

    users = (
        "import lm_bench_paths\nfrom locust import HttpUser, constant, task\n\n\n"
        "class U(HttpUser):\n    wait_time = constant(0.1)\n\n    @task\n    def t(self):\n        self.client.get(lm_bench_paths.PATH)\n"
    )
    files = {"common/__init__.py": b"", "common/users.py": users.encode(), "requirements.txt": b"lm-bench-paths==1.0\n"}
    return ClusterSpec(run_id=uuid.uuid4().hex, script="from common.users import U  # noqa: F401\n", files=files,
                       target_url=target_url, users=USERS, spawn_rate=USERS, duration_seconds=30)  # fmt: skip


def _start_seconds(backend, target_url: str) -> float:
    spec = _spec(target_url)
    began = time.perf_counter()
    handle = backend.start(spec)
    elapsed = time.perf_counter() - began
    backend.teardown(handle)
    return elapsed


def run(quick: bool) -> list[dict]:
    use_project_tree()
    sys.path.insert(0, str(ROOT / "tests"))
    from support.examples import load_example
    from support.wheels import build_wheel

    from load_manager.backends.local import LocalLocustBackend

    samples = 1 if quick else 3
    firsts, seconds = [], []
    target = load_example("target_service").start_target(port=0)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-bundle-") as tmp:
            wheels = build_wheel(Path(tmp) / "wheels", "lm-bench-paths", "1.0", 'PATH = "/items"\n').parent
            os.environ.update({"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels)})
            for sample in range(samples):
                backend = LocalLocustBackend(env_cache_dir=os.path.join(tmp, f"envs-{sample}"))
                firsts.append(_start_seconds(backend, target.url))
                seconds.append(_start_seconds(backend, target.url))
                log(f"bundle start: first {firsts[-1]:.2f} s (builds the environment), second {seconds[-1]:.2f} s (reuses it)")
    finally:
        target.stop()
    return [
        figure(
            "bundle_requirements_second_start",
            measured="start of a second run of a bundle with requirements.txt (environment reused), launch to load confirmed",
            anchor="start of the first run of the same bundle (environment built: venv + pip install of one wheel, offline)",
            value=median(seconds), anchor_value=median(firsts), unit="s", max_ratio=TARGET_MAX_RATIO, samples=samples,
            ratio=paired_ratio(seconds, firsts), ratio_method="median of per-sample second/first",
            details={"first_s": [round(v, 3) for v in firsts], "second_s": [round(v, 3) for v in seconds]},
        )
    ]
