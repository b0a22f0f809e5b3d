"""The load generators' usage as a backend samples it: one reading per Locust process (the single
process or master, and each worker), read from the route generator_usage adds to Locust's web API.

Health is a bonus to the figures a run is judged on: a Locust that does not serve the route (one
started without the plugin) or a malformed answer gives no readings, and never fails a poll.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .generator_usage import ROUTE

__all__ = ["ROUTE", "GeneratorUsage", "generator_usages"]


@dataclass(frozen=True)
class GeneratorUsage:
    """One Locust process over the window since the previous reading (see generator_usage)."""

    id: str  # "local", "master", or the worker's Locust node id
    role: str  # local (a single process), master or worker
    index: int | None  # a worker's index (Locust's, 0-based)
    cpu_percent: float  # CPU time, % of one core
    cpu_wait_percent: float | None  # runnable but waiting for a CPU, % of the window (None: unknown)
    memory_bytes: int | None
    window_seconds: float | None  # None: Locust's own heartbeat figure (refreshed every 10 s)


def generator_usages(payload: Any) -> list[GeneratorUsage]:
    """The readings of the route's answer; [] for anything else."""
    if not isinstance(payload, Mapping):
        return []
    found = []
    for row in payload.get("generators") or []:
        if not isinstance(row, Mapping) or not _is_number(row.get("cpuPercent")) or not row.get("id"):
            continue  # a process with no window yet (its first reading) says nothing
        found.append(GeneratorUsage(
            id=str(row["id"]), role=str(row.get("role") or "worker"), index=row["index"] if _is_int(row.get("index")) else None,
            cpu_percent=float(row["cpuPercent"]), cpu_wait_percent=float(row["cpuWaitPercent"]) if _is_number(row.get("cpuWaitPercent")) else None,
            memory_bytes=int(row["memoryBytes"]) if _is_int(row.get("memoryBytes")) else None,
            window_seconds=float(row["windowSeconds"]) if _is_number(row.get("windowSeconds")) else None,
        ))  # fmt: skip
    return found


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
