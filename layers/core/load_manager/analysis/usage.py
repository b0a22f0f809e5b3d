"""Usage and cost, computed: what a run's load generators used, what a run would use, what it costs.

- ECS (`from_tasks`, basis "allocated"): each task's size (vCPU, GB) times its running time, as
  Fargate bills it; a task without times runs from the launch to the teardown (the run's own).
- Local (`from_readings`, basis "consumed"): each Locust process's CPU seconds and resident memory
  times its observed seconds, from the readings sampled at each poll (backends/generator_usage.py).
  A reading's window is what it covers; a heartbeat reading (no window) stands for the usual
  interval between samples, as in analysis/generators.py.
- An estimate (`estimate`): generators x vCPU x planned duration. ECS: a master task and one task
  per worker, of the deployment's task sizes. Local: one process (a run of one worker) or a master
  and its workers, each at most one core (Locust is one thread), at most the machine's cores.
- Cost: Fargate's price per vCPU-hour and GB-hour of the region (`UsageSettings.prices`, else its
  default price), each task billed at least a minute as Fargate does; a local run costs nothing.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from statistics import median
from typing import TYPE_CHECKING

from load_manager.models.generators import GeneratorReading
from load_manager.models.usage import RoleEstimate, RoleUsage, RunUsage, UsageBasis, UsageCost
from load_manager.settings import UsageSettings

if TYPE_CHECKING:  # annotations only: the API functions estimate without the backends (13 ms at import)
    from load_manager.backends.base import TaskUsage

LOCAL = "local"
ROLE_MASTER, ROLE_WORKER = "master", "worker"
MIN_BILLED_SECONDS = 60  # Fargate bills each task at least a minute (Linux)
DEFAULT_INTERVAL_SECONDS = 1.0
GIB = 1024**3

Samples = Sequence[tuple[int, Sequence[GeneratorReading]]]


def price_of(settings: UsageSettings, region: str | None) -> tuple[float, float, str]:
    """(per vCPU-hour, per GB-hour, priceSource) in `region`."""
    price = settings.prices.get(region or "")
    if price is not None:
        return price[0], price[1], "table"
    return settings.default_price[0], settings.default_price[1], "default"


def fargate_cost(settings: UsageSettings, region: str | None, tasks: Iterable[tuple[float, float, float]]) -> UsageCost:
    """The cost of (vCPU, GB, seconds) tasks: each billed by the second, at least a minute."""
    vcpu_hour, gb_hour, source = price_of(settings, region)
    amount = sum((vcpu * vcpu_hour + gb * gb_hour) * max(math.ceil(seconds), MIN_BILLED_SECONDS) / 3600 for vcpu, gb, seconds in tasks if seconds > 0)
    return UsageCost(amount=round(amount, 6), currency=settings.currency, region=region, price_source=source)


def local_cost(settings: UsageSettings) -> UsageCost:
    return UsageCost(amount=0.0, currency=settings.currency, region=None, price_source=LOCAL)


def from_tasks(tasks: Sequence[TaskUsage], launched_at: float, ended_at: float, settings: UsageSettings, region: str | None) -> RunUsage:
    """ECS: every task's size times its running time (epoch seconds; a task's missing start is the
    launch, its missing stop the teardown)."""
    spans = []
    for task in tasks:
        start = task.started_at if task.started_at is not None else launched_at
        stop = task.stopped_at if task.stopped_at is not None else ended_at
        spans.append((task, start, max(stop, start)))
    roles = _roles((task.role, task.vcpu * (stop - start), task.memory_gb * (stop - start)) for task, start, stop in spans)
    duration = max(stop for _, _, stop in spans) - min(start for _, start, _ in spans) if spans else 0.0
    cost = fargate_cost(settings, region, ((task.vcpu, task.memory_gb, stop - start) for task, start, stop in spans))
    return _usage(roles, len(spans), duration, "allocated", cost)


def from_readings(samples: Samples, settings: UsageSettings) -> RunUsage:
    """Local: each process's CPU seconds and memory GB-seconds over its readings' windows."""
    interval = _usual_interval(samples)
    seconds: dict[str, float] = {}
    lines = []
    for _, readings in samples:
        for reading in readings:
            window = reading.window_seconds if reading.window_seconds is not None else interval
            seconds[reading.id] = seconds.get(reading.id, 0.0) + window
            memory = (reading.memory_bytes or 0) / GIB
            lines.append((_local_role(reading), reading.cpu_percent / 100 * window, memory * window, reading.id))
    counts: dict[str, set[str]] = {}
    for role, _, _, generator in lines:
        counts.setdefault(role, set()).add(generator)
    roles = _roles(((role, cpu, memory) for role, cpu, memory, _ in lines), {role: len(ids) for role, ids in counts.items()})
    return _usage(roles, len(seconds), max(seconds.values(), default=0.0), "consumed", local_cost(settings))


def nothing(backend: str, settings: UsageSettings, region: str | None) -> RunUsage:
    """A run that launched nothing (stopped or failed before any cluster existed)."""
    cost = local_cost(settings) if backend == LOCAL else fargate_cost(settings, region, ())
    return _usage([], 0, 0.0, "consumed" if backend == LOCAL else "allocated", cost)


def estimated_from_sizes(workers: int, seconds: float, settings: UsageSettings, region: str | None) -> RunUsage:
    """ECS could not say: the deployment's task sizes times the run's own times (basis "estimated")."""
    worker = (ROLE_WORKER, settings.worker_vcpu, settings.worker_memory_gb)
    tasks = [(ROLE_MASTER, settings.master_vcpu, settings.master_memory_gb), *[worker] * workers]
    roles = _roles((role, vcpu * seconds, gb * seconds) for role, vcpu, gb in tasks)
    cost = fargate_cost(settings, region, ((vcpu, gb, seconds) for _, vcpu, gb in tasks))
    return _usage(roles, len(tasks), seconds, "estimated", cost)



def estimate(backend: str, workers: int, duration_seconds: int, settings: UsageSettings, region: str | None) -> tuple[list[RoleEstimate], UsageCost]:
    """What a run would be given: its generators (with their vCPU and GB each) and their cost."""
    if backend == LOCAL:
        cores = os.cpu_count() or 1
        if workers <= 1:
            roles = [RoleEstimate(role="locust", count=1, vcpu=1.0, memory_gb=0.0)]
        else:  # each process is one thread: a core at most, and no more cores than the machine has
            share = min(1.0, cores / (workers + 1))
            roles = [RoleEstimate(role=ROLE_MASTER, count=1, vcpu=share, memory_gb=0.0)]
            roles.append(RoleEstimate(role=ROLE_WORKER, count=workers, vcpu=share, memory_gb=0.0))
        return roles, local_cost(settings)
    roles = [
        RoleEstimate(role=ROLE_MASTER, count=1, vcpu=settings.master_vcpu, memory_gb=settings.master_memory_gb),
        RoleEstimate(role=ROLE_WORKER, count=workers, vcpu=settings.worker_vcpu, memory_gb=settings.worker_memory_gb),
    ]
    tasks = [(role.vcpu, role.memory_gb, float(duration_seconds)) for role in roles for _ in range(role.count)]
    return roles, fargate_cost(settings, region, tasks)


def vcpu_seconds_of(roles: Iterable[RoleEstimate], duration_seconds: float) -> float:
    return sum(role.count * role.vcpu for role in roles) * duration_seconds


def memory_gb_seconds_of(roles: Iterable[RoleEstimate], duration_seconds: float) -> float:
    return sum(role.count * role.memory_gb for role in roles) * duration_seconds


# ---- helpers ------------------------------------------------------------------------------------


def _roles(lines: Iterable[tuple[str, float, float]], counts: dict[str, int] | None = None) -> list[RoleUsage]:
    """Sum (role, vCPU-seconds, GB-seconds) lines per role; `counts` says how many generators each
    role has (default: one per line)."""
    found: dict[str, list[float]] = {}
    for role, vcpu_seconds, gb_seconds in lines:
        figures = found.setdefault(role, [0, 0.0, 0.0])
        figures[0] += 1
        figures[1] += vcpu_seconds
        figures[2] += gb_seconds
    order = {"locust": 0, ROLE_MASTER: 1, ROLE_WORKER: 2}
    return [
        RoleUsage(role=role, count=(counts or {}).get(role, int(n)), vcpu_seconds=round(vcpu, 3), memory_gb_seconds=round(gb, 3))
        for role, (n, vcpu, gb) in sorted(found.items(), key=lambda item: order.get(item[0], 3))
    ]


def _usage(roles: list[RoleUsage], generators: int, duration: float, basis: UsageBasis, cost: UsageCost) -> RunUsage:
    return RunUsage(
        vcpu_seconds=round(sum(r.vcpu_seconds for r in roles), 3), memory_gb_seconds=round(sum(r.memory_gb_seconds for r in roles), 3),
        load_generators=generators, duration_seconds=round(duration, 3), basis=basis, roles=roles, estimated_cost=cost,
    )  # fmt: skip


def _local_role(reading: GeneratorReading) -> str:
    return "locust" if reading.role == LOCAL else reading.role


def _usual_interval(samples: Samples) -> float:
    times = [at for at, _ in samples]
    gaps = [(b - a) / 1000 for a, b in zip(times, times[1:], strict=False) if b > a]
    return median(gaps) if gaps else DEFAULT_INTERVAL_SECONDS
