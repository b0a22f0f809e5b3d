"""The AWS side of the ecs backend: its settings and clients, RunTask / DescribeTasks / ListTasks /
StopTask for one launch's tasks, the launch's objects in S3 (runtime archives, web secret) and its
own security group. `EcsLocustBackend` (backend.py) drives Locust's lifecycle over these.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..base import ClusterHandle, ClusterSpec
from ..bundle_layout import runtime_archive
from ..locust_web import SETTLE_SECONDS
from ..web_backend import LocustWebBackend
from .network import RunGroupSpec, create_run_group, delete_run_groups, launch_groups, vpc_of_subnet
from .settings import EcsSettings
from .tasks import (
    GONE_ERRORS,
    ROLE_WORKER,
    S3_GONE_ERRORS,
    STOPPED,
    TAG_LAUNCH_ID,
    TAG_ROLE,
    TAG_RUN_ID,
    AwsApiError,
    aws_call,
    client,
    key_part,
    private_ipv4_address,
    started_by,
    tag_value,
    tags,
)
from .web_secret import forget_secret, read_secret, secret_key

if TYPE_CHECKING:  # pragma: no cover
    from botocore.client import BaseClient

logger = logging.getLogger(__name__)

RUN_TASK_MAX_COUNT = 10  # ECS starts at most 10 tasks per RunTask call
DESCRIBE_TASKS_MAX = 100  # and describes at most 100 per DescribeTasks call
SIGV4_MAX_EXPIRY_SECONDS = 7 * 24 * 3600

# A resolver takes a task as DescribeTasks returns it and answers the host Locust listens on (None
# while the task has no address yet).
MasterAddressResolver = Callable[[Mapping[str, Any]], "str | None"]


class EcsOperations(LocustWebBackend):
    """What EcsLocustBackend does in AWS, for one launch (its handle) at a time."""

    def __init__(
        self,
        settings: EcsSettings,
        *,
        ecs_client: BaseClient | None = None,
        s3_client: BaseClient | None = None,
        logs_client: BaseClient | None = None,
        ec2_client: BaseClient | None = None,
        master_address_resolver: MasterAddressResolver | None = None,
        start_timeout: float = 600.0,
        swarm_timeout: float = 30.0,
        stop_timeout: float = 60.0,
        poll_interval: float = 2.0,
        settle_seconds: float = SETTLE_SECONDS,
        script_url_margin_seconds: int = 3600,
        group_delete_timeout: float = 120.0,
    ):
        """`start_timeout` bounds all of begin (Fargate provisioning of master and workers, image
        pulls, Locust's start): keep it under the Lambda's timeout (900 s) with room to tear down.
        `poll_interval` paces DescribeTasks and web API polls while waiting. `group_delete_timeout`
        bounds how long teardown retries deleting the launch's security group while Fargate has
        not yet released the stopped tasks' network interfaces (what is left, a sweeper collects)."""
        super().__init__(
            start_timeout=start_timeout, swarm_timeout=swarm_timeout, stop_timeout=stop_timeout,
            probe_interval=poll_interval, settle_seconds=settle_seconds,
        )  # fmt: skip
        self.settings = settings
        self._ecs_client = ecs_client
        self._s3_client = s3_client
        self._logs_client = logs_client  # CloudWatch Logs: a stopped task's log tail
        self._ec2_client = ec2_client  # the launch's own security group (network.py)
        self._resolve_address = master_address_resolver or private_ipv4_address
        self._script_url_margin = script_url_margin_seconds
        self._group_delete_timeout = group_delete_timeout

    # ---- teardown: the launch's tasks and objects -------------------------------------------

    def _stop_tasks(self, handle: ClusterHandle) -> list[str]:
        errors: list[str] = []
        try:
            found = self._launch_tasks(handle, include_listed=True)
        except AwsApiError as exc:
            errors.append(str(exc))
            recorded = [handle.details.get("master_task_arn"), *(handle.details.get("worker_task_arns") or [])]
            found = {arn: {"taskArn": arn} for arn in recorded if arn}
        reason = f"Load Manager: teardown of run {handle.run_id}"[:255]
        for arn in (arn for arn, task in found.items() if task.get("desiredStatus") != STOPPED):
            try:
                aws_call(self._ecs().stop_task, cluster=self._cluster(handle), task=arn, reason=reason)
            except AwsApiError as exc:
                if exc.code not in GONE_ERRORS:
                    errors.append(str(exc))
        return errors

    def _delete_script(self, handle: ClusterHandle) -> list[str]:
        details = handle.details
        keys = [str(details.get("script_key") or "")]
        if handle.launch_id:  # named after the launch: a handle rebuilt by find_launches reaches them too
            keys += [master_archive_key(handle.run_id, handle.launch_id), secret_key(handle.run_id, handle.launch_id)]
        return self._delete_objects(handle, keys)

    def _delete_objects(self, handle: ClusterHandle, keys: list[str]) -> list[str]:
        bucket = handle.details.get("script_bucket")
        errors = []
        for key in dict.fromkeys(key for key in keys if key):
            if not bucket:
                break
            forget_secret(bucket, key)
            try:
                aws_call(self._s3().delete_object, Bucket=bucket, Key=key)
            except AwsApiError as exc:
                if exc.code not in S3_GONE_ERRORS:
                    errors.append(str(exc))
        return errors

    # ---- network isolation (network.py, web_secret.py) ----------------------------------------

    def _create_run_group(self, handle: ClusterHandle) -> str:
        settings = self.settings
        ec2 = self._ec2()
        spec = RunGroupSpec(
            vpc_id=settings.vpc_id or vpc_of_subnet(ec2, settings.subnets[0]), run_id=handle.run_id, launch_id=handle.launch_id,
            managed_by=settings.managed_by, web_port=settings.web_port, master_port=settings.master_port,
            control_plane_group=settings.control_plane_security_group, tags=settings.tags,
        )  # fmt: skip
        return create_run_group(ec2, spec)

    def _delete_run_groups(self, handle: ClusterHandle) -> None:
        """The launch's group, found by its tags (so a handle rebuilt from the run id alone reaches
        it too; the recorded id only if EC2 cannot be asked). Never raises: a group still in use
        after the bounded wait, or any failure, is left to `collect_leftover_security_groups`."""
        recorded = handle.details.get("security_group_id")
        try:
            # What EC2 still has: a group deleted by an earlier teardown is not asked for again.
            managed_by = str(handle.details.get("managed_by") or self.settings.managed_by)
            groups = launch_groups(self._ec2(), managed_by, handle.run_id, handle.launch_id or None)
        except AwsApiError as exc:
            groups = [recorded] if recorded else []
            logger.warning("could not look up the security groups of run %s: %s", handle.run_id, exc)
        if not groups:
            return
        left = delete_run_groups(self._ec2(), groups, timeout=self._group_delete_timeout, interval=max(self._probe_interval, 0.5))
        for group, why in left.items():
            logger.warning("security group %s of run %s left for the sweeper: %s", group, handle.run_id, why)

    def _web_secret(self, handle: ClusterHandle) -> str | None:
        bucket = handle.details.get("script_bucket")
        key = handle.details.get("web_secret_key") or (secret_key(handle.run_id, handle.launch_id) if handle.launch_id else None)
        return read_secret(self._s3(), str(bucket), str(key)) if bucket and key else None

    # ---- launch: the runtime archives in S3, RunTask --------------------------------------------

    def _upload_bundle(self, handle: ClusterHandle, spec: ClusterSpec, *, web_secret: str | None = None) -> None:
        """The workers' archive (`script_key`), or with `web_secret` the master's (`master_archive_key`)."""
        bucket = handle.details["script_bucket"]
        key = handle.details["master_archive_key"] if web_secret else handle.details["script_key"]
        aws_call(
            self._s3().put_object, Bucket=bucket, Key=key, Body=runtime_archive(spec, web_secret=web_secret, with_run_env=True),
            ContentType="application/zip", ServerSideEncryption="AES256",
        )  # fmt: skip

    def _bundle_url(self, handle: ClusterHandle, spec: ClusterSpec, key: str | None = None) -> str:
        # Each task downloads it once, at start; the URL is a bearer credential visible in the
        # task's overrides, so it must not outlive the run (SigV4 caps it at 7 days anyway). It is
        # also only valid while the signing credentials are: a Lambda role's last hours, plenty for
        # tasks that fetch the bundle within minutes.
        bucket, key = handle.details["script_bucket"], key or handle.details["script_key"]
        expires = min(spec.duration_seconds + self._script_url_margin, SIGV4_MAX_EXPIRY_SECONDS)
        url = aws_call(self._s3().generate_presigned_url, "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=int(expires))
        return str(url)

    def _run_tasks(
        self, handle: ClusterHandle, role: str, task_definition: str, command: list[str], env: Mapping[str, str], *, count: int,
        extra_tags: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        settings = self.settings
        labels = {**dict(settings.tags), TAG_RUN_ID: tag_value(handle.run_id), TAG_LAUNCH_ID: handle.details["launch_id"], TAG_ROLE: role}
        labels |= dict(extra_tags or {})
        environment = [{"name": str(k), "value": str(v)} for k, v in dict(env or {}).items()]
        environment.append({"name": "PYTHONUNBUFFERED", "value": "1"})  # a crash's last words reach the log
        response: dict[str, Any] = aws_call(
            self._ecs().run_task,
            cluster=self._cluster(handle),
            taskDefinition=task_definition,
            launchType="FARGATE",
            count=count,
            startedBy=handle.details["started_by"],
            networkConfiguration={
                "awsvpcConfiguration": {
                    "subnets": list(settings.subnets),
                    # The launch's own group first (what isolates it), then the deployment's.
                    "securityGroups": [g for g in (handle.details.get("security_group_id"), *settings.security_groups) if g],
                    "assignPublicIp": "ENABLED" if settings.assign_public_ip else "DISABLED",
                }
            },
            overrides={"containerOverrides": [{"name": settings.container_name, "command": command, "environment": environment}]},
            tags=[{"key": key, "value": value} for key, value in labels.items()],
            enableECSManagedTags=True,
        )  # botocore fills RunTask's clientToken, so its own retries never start tasks twice
        return response

    # ---- ECS lookups ---------------------------------------------------------------------------

    def _describe(self, handle: ClusterHandle, arns: Iterable[str | None]) -> dict[str, dict[str, Any]]:
        """Tasks by ARN, with tags; tasks ECS does not know (any more) are left out."""
        wanted = list(dict.fromkeys(arn for arn in arns if arn))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), DESCRIBE_TASKS_MAX):
            try:
                response = aws_call(
                    self._ecs().describe_tasks, cluster=self._cluster(handle), tasks=wanted[start : start + DESCRIBE_TASKS_MAX], include=["TAGS"]
                )
            except AwsApiError as exc:
                if exc.code == "ClusterNotFoundException":
                    return {}  # the cluster is gone, and every task with it
                raise
            for task in response.get("tasks") or []:
                found[task["taskArn"]] = task
        return found

    def _launch_tasks(self, handle: ClusterHandle, *, include_listed: bool) -> dict[str, dict[str, Any]]:
        """This launch's tasks: those the handle records, plus (include_listed) those ECS lists as
        started by the run and tagged with this launch. Described, by ARN."""
        details = handle.details
        recorded = [details.get("master_task_arn"), *(details.get("worker_task_arns") or [])]
        listed: list[str] = []
        if include_listed:
            try:
                paginator = self._ecs().get_paginator("list_tasks")
                starter = details.get("started_by") or started_by(handle.run_id)
                for page in aws_call(paginator.paginate, cluster=self._cluster(handle), startedBy=starter):
                    listed.extend(page.get("taskArns") or [])
            except AwsApiError as exc:
                if exc.code != "ClusterNotFoundException":
                    raise
        described = self._describe(handle, [*recorded, *listed])
        launch_id = details.get("launch_id")
        recorded_set = {arn for arn in recorded if arn}
        return {
            arn: task
            for arn, task in described.items()
            if arn in recorded_set
            or (tags(task).get(TAG_RUN_ID) == tag_value(handle.run_id) and (not launch_id or tags(task).get(TAG_LAUNCH_ID) == launch_id))
        }

    def _worker_tasks(self, handle: ClusterHandle) -> dict[str, dict[str, Any]]:
        master = handle.details.get("master_task_arn")
        return {
            arn: task
            for arn, task in self._launch_tasks(handle, include_listed=True).items()
            if arn != master and tags(task).get(TAG_ROLE, ROLE_WORKER) == ROLE_WORKER
        }

    def _cluster(self, handle: ClusterHandle) -> str:
        # The cluster the tasks were started in, even if the configuration has changed since.
        return str(handle.details.get("cluster") or self.settings.cluster)

    def _container_name(self, handle: ClusterHandle) -> str:
        return str(handle.details.get("container_name") or self.settings.container_name)

    # ---- clients -------------------------------------------------------------------------------

    def _ecs(self) -> BaseClient:
        if self._ecs_client is None:
            self._ecs_client = client("ecs", self.settings.region)
        return self._ecs_client

    def _s3(self) -> BaseClient:
        if self._s3_client is None:
            self._s3_client = client("s3", self.settings.region)
        return self._s3_client

    def _ec2(self) -> BaseClient:
        if self._ec2_client is None:
            self._ec2_client = client("ec2", self.settings.region)
        return self._ec2_client

    def _logs(self, region: str | None) -> BaseClient:
        # An injected client serves every region; otherwise the log group's own region.
        return self._logs_client if self._logs_client is not None else client("logs", region)


def script_key(run_id: str, launch_id: str) -> str:
    return f"scripts/{key_part(run_id)}/{launch_id}/bundle.zip"


def master_archive_key(run_id: str, launch_id: str) -> str:
    return f"scripts/{key_part(run_id)}/{launch_id}/master.zip"
