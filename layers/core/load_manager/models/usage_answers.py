"""Usage and cost, as the API answers about them: what starting a run would use (POST .../runs?dryRun=true)
and a tenant's sums over a time window (GET /v1/usage). What a run recorded is models/usage.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from load_manager.models.base import ApiModel, ErrorResponse
from load_manager.models.usage import RoleEstimate, UsageCost

GroupBy = Literal["test", "project", "env"]


class BudgetStatus(ApiModel):
    """The tenant's monthly vCPU-hour budget, as it stands."""

    month: str = Field(description="The calendar month (UTC), YYYY-MM")
    budget_vcpu_hours: float
    used_vcpu_hours: float = Field(description="Recorded by the month's runs")
    in_flight_vcpu_hours: float = Field(description="The estimates of the runs still active (or not yet recorded)")


class RunEstimate(ApiModel):
    """POST .../runs?dryRun=true: what starting this run would use and whether it would start. Nothing
    was started, stored or held."""

    dry_run: bool = True
    load_test_id: str
    backend: str
    cluster_id: str | None = None
    load_generators: int
    roles: list[RoleEstimate]
    duration_seconds: int = Field(description="The planned duration (a load profile's total)")
    vcpu_hours: float = Field(description="Generators x vCPU x planned duration")
    memory_gb_hours: float
    estimated_cost: UsageCost
    would_start: bool
    refusal: ErrorResponse | None = Field(default=None, description="Why it would be refused now (a quota or the budget)")
    budget: BudgetStatus | None = Field(default=None, description="Null: the tenant has no vCPU-hour budget")


class UsageFigures(ApiModel):
    runs: int
    vcpu_hours: float
    memory_gb_hours: float
    estimated_cost: float = Field(description="In the report's currency")


class UsageGroup(UsageFigures):
    key: str | None = Field(description="The test id, project id or env id (null: runs without a project or env)")


class UsageReport(ApiModel):
    """A tenant's runs created in [from, to), summed per group from the runs' own records."""

    from_: int = Field(alias="from", description="Epoch ms, inclusive")
    to: int = Field(description="Epoch ms, exclusive")
    group_by: GroupBy
    currency: str
    items: list[UsageGroup] = Field(description="Largest vCPU-hours first")
    truncated: bool = Field(default=False, description="More groups than an answer holds: the smallest were left out (not from the total)")
    total: UsageFigures
    budget: BudgetStatus | None = Field(default=None, description="Null: the tenant has no vCPU-hour budget")
