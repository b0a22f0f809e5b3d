"""Usage and cost: what a run used of its load generators, recorded when it ends (a field of the run).
What a start would use (a dry run) and a tenant's sums (GET /v1/usage) are models/usage_answers.py:
every function that names a run builds these classes, only two functions need those."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from load_manager.models.base import ApiModel

UsageBasis = Literal["allocated", "consumed", "estimated"]


class UsageCost(ApiModel):
    amount: float = Field(description="Estimated cost, in `currency`")
    currency: str
    region: str | None = Field(default=None, description="The AWS region whose prices were used (null: local)")
    price_source: str = Field(
        description='"table": the region\'s prices from the deployment\'s price table; "default": the region is not in the table, '
        'its default prices were used; "local": a run on this machine costs nothing'
    )


class RoleUsage(ApiModel):
    """One kind of load generator of a run: what it counts and what those used."""

    role: str = Field(description="master, worker (ECS tasks) or locust, master, worker (local Locust processes)")
    count: int
    vcpu_seconds: float
    memory_gb_seconds: float


class RunUsage(ApiModel):
    """What a run used of its load generators, recorded once its cluster is torn down.

    On ECS every task is counted, master and workers, as Fargate bills it: the task's vCPU and memory
    (its size) times its running time (image pull or start until it stopped). Locally, each Locust
    process's own CPU seconds and resident memory times its observed seconds (what it consumed)."""

    vcpu_seconds: float
    memory_gb_seconds: float
    load_generators: int = Field(description="Tasks (ECS: master and workers) or Locust processes counted")
    duration_seconds: float = Field(description="From the first generator's start to the last one's stop")
    basis: UsageBasis = Field(
        description='"allocated": ECS tasks\' sizes x running time; "consumed": local processes\' CPU and memory use; '
        '"estimated": the deployment\'s task sizes x the run\'s own times (ECS could not say)'
    )
    roles: list[RoleUsage] = Field(default_factory=list, description="The figures per kind of generator (which ones were counted)")
    estimated_cost: UsageCost


class RoleEstimate(ApiModel):
    role: str
    count: int
    vcpu: float = Field(description="vCPU each (ECS: the task size; local: the cores one process may use)")
    memory_gb: float = Field(description="GB of memory each (0 locally: not known in advance)")
