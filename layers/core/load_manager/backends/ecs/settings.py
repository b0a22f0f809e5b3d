"""Where and how a run's Fargate tasks start: a cluster configuration's `ecs` settings, with the
deployment's own cluster (`Settings.ecs`) filling whatever the configuration leaves out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from load_manager.settings import EcsDefaults

WEB_PORT = 8089
MASTER_PORT = 5557
# Set by the deployment only: a stored cluster configuration never changes what it is allowed.
DEPLOYMENT_ONLY = frozenset({"allowed_subnets", "allowed_security_groups", "allow_public_ip", "managed_by", "control_plane_security_group", "vpc_id"})


@dataclass(frozen=True)
class EcsSettings:
    """The task definitions' container (`container_name`) must use an image whose entrypoint is
    `locust` (the public `locustio/locust` image, as template.yaml declares it)."""

    cluster: str
    master_task_definition: str
    worker_task_definition: str
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    assign_public_ip: bool = False
    container_name: str = "locust"
    script_bucket: str = ""
    region: str | None = None  # None: the SDK's default (AWS_REGION in Lambda)
    web_port: int = WEB_PORT
    master_port: int = MASTER_PORT
    tags: Mapping[str, str] = field(default_factory=dict)  # extra tags on every task (cost allocation)
    # Network isolation (network.py): each launch creates its own security group in `vpc_id` (empty:
    # the first subnet's VPC), admitting the master port from itself and the web API port from
    # `control_plane_security_group` only; `security_groups` are attached besides it.
    vpc_id: str = ""
    control_plane_security_group: str = ""
    managed_by: str = "load-manager"  # the tag that marks a run group as this deployment's
    # What the deployment allows a cluster configuration to choose (None: not checked, as for the
    # deployment's own settings built in tests); checked again at launch (`network_problems`).
    allowed_subnets: tuple[str, ...] | None = None
    allowed_security_groups: tuple[str, ...] | None = None
    allow_public_ip: bool | None = None

    @classmethod
    def from_defaults(cls, defaults: EcsDefaults) -> EcsSettings:
        return cls(
            cluster=defaults.cluster,
            master_task_definition=defaults.master_task_definition,
            worker_task_definition=defaults.worker_task_definition,
            subnets=tuple(defaults.subnets),
            security_groups=tuple(defaults.security_groups),
            assign_public_ip=defaults.assign_public_ip,
            container_name=defaults.container_name,
            script_bucket=defaults.scripts_bucket,
            region=defaults.region,
            vpc_id=defaults.vpc_id,
            control_plane_security_group=defaults.control_plane_security_group,
            managed_by=defaults.managed_by,
            allowed_subnets=tuple(defaults.allowed_subnets),
            allowed_security_groups=tuple(defaults.allowed_security_groups),
            allow_public_ip=defaults.assign_public_ip,
        )

    @classmethod
    def for_cluster(cls, configured: Mapping[str, Any] | None, defaults: EcsDefaults) -> EcsSettings:
        """A stored configuration's settings (snake_case, as `EcsClusterSettings.model_dump()`
        gives them) over the deployment's defaults; no configuration: the defaults alone."""
        base = cls.from_defaults(defaults)
        if not configured:
            return base
        known = {f.name for f in fields(cls)} - DEPLOYMENT_ONLY
        # Left out (None, "", no security group listed): the deployment's value fills it.
        chosen = {name: value for name, value in configured.items() if name in known and value not in (None, "", [], ())}
        for name in ("subnets", "security_groups"):
            if name in chosen:
                chosen[name] = tuple(chosen[name])
        return replace(base, **chosen)

    def problems(self) -> list[str]:
        """What is missing before a cluster can be launched (empty when complete)."""
        required = {
            "cluster (ECS_CLUSTER)": self.cluster,
            "master task definition (ECS_MASTER_TASK_DEFINITION)": self.master_task_definition,
            "worker task definition (ECS_WORKER_TASK_DEFINITION)": self.worker_task_definition,
            "subnets (ECS_SUBNETS)": self.subnets,
            "script bucket (SCRIPTS_BUCKET)": self.script_bucket,
        }
        return [name for name, value in required.items() if not value]

    def network_problems(self) -> list[str]:
        """Subnets, security groups or a public IP the deployment does not allow (empty when fine):
        a configuration stored before the allowlist existed, or one that changed since, is refused
        here too, not only when it is written (usecases/clusters.py)."""
        found = []
        checked = (("subnet", self.subnets, self.allowed_subnets), ("security group", self.security_groups, self.allowed_security_groups))
        for what, chosen, allowed in checked:
            if allowed is not None:
                found += [f"{what} {value} is not allowed by this deployment" for value in chosen if value not in allowed]
        if self.allow_public_ip is False and self.assign_public_ip:
            found.append("a public IP for the tasks is not allowed by this deployment")
        return found
