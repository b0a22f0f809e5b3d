"""The usage port: a tenant's runs summed over a time window (read from the run records themselves),
and the vCPU budget's holds: the estimates of the runs in flight, each taken by one conditional write."""

from __future__ import annotations

import builtins
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal, Protocol

GroupKey = Literal["test", "project", "env"]


@dataclass(frozen=True)
class UsageSum:
    key: str | None  # the test, project or env id (None: runs without one, or no grouping)
    runs: int
    vcpu_seconds: float
    memory_gb_seconds: float
    cost: float


@dataclass(frozen=True)
class BudgetHold:
    member: str  # a run id
    vcpu_ms: int  # its estimate, in vCPU-milliseconds (integers add up exactly)
    at: int  # when it was taken (epoch ms)


class UsageStore(Protocol):
    def sums(
        self, account_id: str, start: int, end: int, group_by: GroupKey | None, limit: int, *, test_ids: Collection[str] | None = None
    ) -> builtins.list[UsageSum]:
        """The tenant's runs created in [start, end) (of `test_ids` only, when given), per group (None:
        one group, key None): how many, and the sums of their recorded usage (a run without one adds 0).
        Largest vCPU-seconds first (then key), at most `limit` groups. Read through an index on (tenant, created)."""
        ...

    def take(self, account_id: str, hold: BudgetHold, cap_ms: int) -> bool:
        """Add `hold` if the tenant's holds plus it stay within `cap_ms`; True also when the member
        holds already (retries are safe), False when it would go over."""
        ...

    def release(self, account_id: str, member: str) -> None:
        """Drop the member's hold; a missing one is not an error."""
        ...

    def holds(self, account_id: str) -> builtins.list[BudgetHold]: ...
