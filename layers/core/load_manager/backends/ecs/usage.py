"""What a launch's Fargate tasks were given and for how long, as ECS records it: the run's usage.

Fargate bills a task's vCPU and memory (its size, not what it used) from the start of its image pull
until it stops. DescribeTasks says both: `cpu` (CPU units, 1024 = 1 vCPU) and `memory` (MiB) of the
task, `pullStartedAt` / `startedAt` and `stoppedAt`. A task that does not say its size is sized by
its task definition (DescribeTaskDefinition, once per definition). Every task of the launch is
counted, master and workers, stopped ones too (ListTasks by startedBy in both desired statuses, with
the launch's tag), so the workers of a start that failed half way are not missed. A task ECS no
longer knows (it forgets stopped tasks after about an hour) is counted by the size of the
deployment's task definition for its role, with no times: the lifecycle fills in the run's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..base import ClusterHandle, TaskUsage
from .operations import EcsOperations
from .tasks import ROLE_MASTER, ROLE_WORKER, TAG_LAUNCH_ID, TAG_ROLE, TAG_RUN_ID, AwsApiError, aws_call, started_by, tag_value, tags

CPU_UNITS_PER_VCPU = 1024
MIB_PER_GB = 1024  # Fargate's "GB" of memory is 1024 MiB (a 2048 MiB task is a 2 GB one)


class EcsTaskUsage(EcsOperations):
    def task_usage(self, handle: ClusterHandle) -> list[TaskUsage]:
        master = handle.details.get("master_task_arn")
        recorded = {arn: (ROLE_MASTER if arn == master else ROLE_WORKER) for arn in [master, *(handle.details.get("worker_task_arns") or [])] if arn}
        found = self._describe(handle, [*recorded, *self._listed_any_status(handle)])
        launch_id = handle.details.get("launch_id") or handle.launch_id
        ours = {
            arn: task for arn, task in found.items()
            if arn in recorded or (tags(task).get(TAG_RUN_ID) == tag_value(handle.run_id) and tags(task).get(TAG_LAUNCH_ID) == launch_id)
        }  # fmt: skip
        sizes: dict[str, tuple[float, float] | None] = {}
        usage = [self._described_usage(task, recorded.get(arn), sizes) for arn, task in sorted(ours.items())]
        for arn, role in sorted(recorded.items()):
            if arn not in ours:  # forgotten by ECS: the deployment's definition for its role, no times
                definition = self.settings.master_task_definition if role == ROLE_MASTER else self.settings.worker_task_definition
                size = self._definition_size(definition, sizes) or (0.0, 0.0)
                usage.append(TaskUsage(role=role, vcpu=size[0], memory_gb=size[1], started_at=None, stopped_at=None))
        return usage

    def _listed_any_status(self, handle: ClusterHandle) -> list[str]:
        starter = handle.details.get("started_by") or started_by(handle.run_id)
        arns: list[str] = []
        paginator = self._ecs().get_paginator("list_tasks")
        for status in ("RUNNING", "STOPPED"):
            try:
                for page in aws_call(paginator.paginate, cluster=self._cluster(handle), startedBy=starter, desiredStatus=status):
                    arns.extend(page.get("taskArns") or [])
            except AwsApiError as exc:
                if exc.code != "ClusterNotFoundException":
                    raise
        return arns

    def _described_usage(self, task: Mapping[str, Any], role: str | None, sizes: dict[str, tuple[float, float] | None]) -> TaskUsage:
        size = _task_size(task) or self._definition_size(str(task.get("taskDefinitionArn") or ""), sizes) or (0.0, 0.0)
        started = task.get("pullStartedAt") or task.get("startedAt") or task.get("createdAt")
        stopped = task.get("stoppedAt") or task.get("executionStoppedAt")
        return TaskUsage(
            role=role or tags(task).get(TAG_ROLE) or ROLE_WORKER, vcpu=size[0], memory_gb=size[1],
            started_at=_epoch_seconds(started), stopped_at=_epoch_seconds(stopped),
        )  # fmt: skip

    def _definition_size(self, definition: str, sizes: dict[str, tuple[float, float] | None]) -> tuple[float, float] | None:
        if not definition:
            return None
        if definition not in sizes:
            try:
                described = aws_call(self._ecs().describe_task_definition, taskDefinition=definition).get("taskDefinition") or {}
            except AwsApiError:
                described = {}
            sizes[definition] = _task_size(described)
        return sizes[definition]


def _task_size(described: Mapping[str, Any]) -> tuple[float, float] | None:
    """(vCPU, GB) of a task or task definition: ECS answers both as strings of CPU units and MiB."""
    try:
        cpu, memory = float(described["cpu"]), float(described["memory"])
    except (KeyError, TypeError, ValueError):
        return None
    return cpu / CPU_UNITS_PER_VCPU, memory / MIB_PER_GB


def _epoch_seconds(value: Any) -> float | None:
    if value is None:
        return None
    if hasattr(value, "timestamp"):  # boto3 parses ECS's times into datetimes
        return float(value.timestamp())
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
