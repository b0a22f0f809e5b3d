"""Shared helpers for the benchmark modules: paths, statistics, the figure record, progress output.

A benchmark module is `bench/<name>.py` exposing `run(quick: bool) -> list[dict]`, each dict made
by `figure(...)`. Register it in `BENCHMARKS` in `bench/run.py`.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from typing import Any, Protocol, TypeVar

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "core"  # what the Lambda layer puts on sys.path (/opt/python)
LOCAL_SRC = ROOT / "src"  # the local runtime (load_manager_local); never deployed


def venv_python() -> str:
    """The project's interpreter for subprocesses: .venv/bin/python if present, else this one."""
    candidate = ROOT / ".venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


def use_project_tree() -> None:
    """Import `load_manager` / `load_manager_local` from this checkout, ahead of any installed copy.

    The editable install already points here; putting the tree first on sys.path also makes the
    benchmark measure the tree it lives in when run from a copy of the repository.
    """
    for path in (str(LOCAL_SRC), str(LAYER)):
        if path not in sys.path:
            sys.path.insert(0, path)
    os.environ.setdefault("LOAD_MANAGER_ROOT", str(ROOT))


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def spread(values: list[float]) -> dict[str, float]:
    """Robust spread of samples: quartiles, so a reader can judge how noisy a median is."""
    if len(values) < 2:
        return {"p25": values[0], "p75": values[0]} if values else {}
    q = statistics.quantiles(values, n=4, method="inclusive")
    return {"p25": q[0], "p75": q[2]}


def paired_ratio(values: list[float], anchors: list[float]) -> float:
    """Median of per-pair ratios: sample i of the measured thing against the anchor run next to it.

    Load from other processes that drifts during the run hits both members of a pair alike, so it
    cancels here, where a ratio of two medians would carry it.
    """
    if len(values) != len(anchors) or not values:
        raise ValueError("paired_ratio needs two equally long, non-empty sample lists")
    return median(v / a for v, a in zip(values, anchors, strict=True))


def log(message: str) -> None:
    """Progress goes to stderr: stdout carries only the JSON document."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def figure(
    name: str,
    *,
    measured: str,
    anchor: str,
    value: float,
    anchor_value: float,
    unit: str,
    max_ratio: float | None = None,
    min_ratio: float | None = None,
    samples: int | None = None,
    ratio: float | None = None,
    ratio_method: str | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One performance figure: the ratio of `value` to `anchor_value`, compared with the target.

    Lower-is-better figures (latency, import time) give `max_ratio`; higher-is-better ones
    (throughput) give `min_ratio`. `ratio` defaults to `value / anchor_value`; pass
    `paired_ratio(...)` instead when samples were taken in pairs (more robust on a busy machine)
    and say so in `ratio_method`.
    """
    if (max_ratio is None) == (min_ratio is None):
        raise ValueError("give exactly one of max_ratio / min_ratio")
    ratio_of_values = value / anchor_value if anchor_value else float("inf")
    if ratio is None:
        ratio, ratio_method = ratio_of_values, "value / anchor_value"
    if max_ratio is not None:
        target, met = {"max_ratio": max_ratio}, ratio <= max_ratio
    else:
        target, met = {"min_ratio": min_ratio}, ratio >= min_ratio
    return {
        "name": name,
        "measured": measured,
        "anchor": anchor,
        "unit": unit,
        "value": round(value, 4),
        "anchor_value": round(anchor_value, 4),
        "ratio": round(ratio, 4),
        "ratio_method": ratio_method,
        "ratio_of_medians": round(ratio_of_values, 4),
        "target": target,
        "met": bool(met),
        "samples": samples,
        "details": details or {},
    }


class _HasStores(Protocol):
    stores: Any


Dataset = TypeVar("Dataset", bound=_HasStores)


def alternate(
    datasets: list[Dataset], call: Callable[[Dataset], Any], warmup: int, n: int, key: Callable[[Dataset], Hashable]
) -> dict[Any, list[float]]:
    """Per-dataset samples in ms (keyed by `key`), calls alternating between the datasets (order
    swapped each iteration) after `warmup` rounds; each dataset's stores are installed for its calls."""
    from load_manager.store import set_stores

    samples: dict[Any, list[float]] = {key(ds): [] for ds in datasets}
    for i in range(warmup + n):
        for ds in datasets if i % 2 == 0 else list(reversed(datasets)):
            set_stores(ds.stores)
            started = time.perf_counter()
            call(ds)
            elapsed = (time.perf_counter() - started) * 1000
            if i >= warmup:
                samples[key(ds)].append(elapsed)
    return samples
