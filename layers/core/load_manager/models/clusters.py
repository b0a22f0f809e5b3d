"""Locust clusters: which backend (local or ECS) runs the runs of a scope, and how."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from load_manager.models.base import ApiModel, BackendKind, RequestModel, ScopeId, Workers


class EcsClusterSettings(RequestModel):
    cluster: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    master_task_definition: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    worker_task_definition: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    # Only what the deployment allows (ECS_ALLOWED_*; 422 SubnetNotAllowed / SecurityGroupNotAllowed /
    # PublicIpNotAllowed otherwise). Each run also gets its own security group, first of at most five.
    subnets: Annotated[list[Annotated[str, StringConstraints(pattern=r"^subnet-[0-9a-f]+$")]], Field(min_length=1, max_length=16)]
    security_groups: Annotated[list[Annotated[str, StringConstraints(pattern=r"^sg-[0-9a-f]+$")]], Field(max_length=4)] = []
    assign_public_ip: bool = False
    container_name: Annotated[str, StringConstraints(min_length=1, max_length=255)] = "locust"
    script_bucket: Annotated[str, StringConstraints(min_length=3, max_length=63)] | None = None


class PutClusterRequest(RequestModel):
    """Scope: account-wide when org/project/env are absent; each level narrows it."""

    org_id: ScopeId | None = None
    project_id: ScopeId | None = None
    env_id: ScopeId | None = None
    backend: BackendKind
    max_workers: Workers = 8
    ecs: EcsClusterSettings | None = None


class ClusterConfig(ApiModel):
    id: str
    account_id: str
    org_id: str | None = None
    project_id: str | None = None
    env_id: str | None = None
    backend: BackendKind
    max_workers: int
    ecs: EcsClusterSettings | None = None
    updated_at: int
    updated_by: str


class ClusterPage(ApiModel):
    items: list[ClusterConfig]
