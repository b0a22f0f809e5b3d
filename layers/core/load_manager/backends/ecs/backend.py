"""The ecs backend: Locust on AWS Fargate, one master task and N worker tasks, driven through the
master's web API (port 8089) exactly as the local backend drives its processes.

    launch    uploads the run's bundle to S3 (SSE) as the runtime archive (bundle_layout), RunTask
              the master with LOAD_MANAGER_BUNDLE_URL=<presigned URL>, and returns at once: the
              handle (master task ARN, S3 object) is recorded before anything slow can time out.
              The task definitions' entry point is `python -c LOADER`: every task downloads the
              archive, unpacks the whole bundle, installs requirements.txt, then execs Locust with
              the bundle as its working directory (see bundle_layout and bootstrap).
    begin     waits for the master's ENI and private IP, RunTask the workers with the same bundle
              (a fresh presigned URL; workers get every file, not only the locustfile), waits for
              the web API and for N connected
              workers, POSTs /swarm and confirms the load by `state`. Idempotent. What it learns
              (the master's address, the workers' ARNs) is written into the handle, which the
              lifecycle stores once, so a poll needs one DescribeTasks and nothing else from AWS.
    status    one DescribeTasks on the master and every worker: a stopped task ends the run (its
              log tail is read then, see Logs).
    teardown  StopTask on the master and every worker, delete the script object. Idempotent.

Every task carries:
    startedBy                 the run id (ECS keeps 36 characters of it)
    load-manager:run-id       the run id
    load-manager:launch-id    one launch of the run: when two StartRun attempts race, the loser's
                              teardown stops its own tasks only, never the winner's
    load-manager:role         master | worker
so a handle stored before begin still finds its workers (`ListTasks(startedBy=<run id>)`).

Network: the Lambda reaches the master's *private* IP on 8089 and the workers reach it on 5557, so
the Lambda runs in the tasks' VPC. One run must not reach another's, so each launch has its own
security group (network.py: created at launch, attached to its tasks before the deployment's own
groups, 5557 from itself and 8089 from the control plane's group only, deleted at teardown) and
its master's web API refuses any request without the launch's secret (web_guard.py; the secret
reaches the master inside its own archive, `master_archive_key`, deleted once begin is done, and
this backend through web_secret.py). Workers download an archive without the secret.

Logs: Locust's output goes to CloudWatch Logs through the task definition's awslogs driver. When
`status` finds a task stopped, and only then (a healthy poll stays one DescribeTasks), it reads that
container's last lines back (logs.py: DescribeTaskDefinition for the container's awslogs group and
stream prefix, then GetLogEvents on `<prefix>/<container>/<task id>`, at most 20 lines / 4 KB) and
puts them before ECS's stop code and stopped reason and the container's exit code and reason, as
the local backend puts Locust's log in the reason. Best effort: a stream not created yet (the
container never started), AccessDenied or throttling leaves a one-line note saying the log could
not be read and why, never changes the outcome.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..base import BackendUnavailableError, ClusterHandle, ClusterSpec, LocustCrashedError, LocustStartError, ProcessStatus
from ..bundle_layout import BUNDLE_URL_ENV, runtime_archive
from ..locust_web import SETTLE_SECONDS, new_secret, poll
from ..web_backend import LocustWebBackend
from .logs import awslogs_location, log_tail_or_note, unreadable
from .network import RunGroupSpec, create_run_group, delete_run_groups, launch_groups, vpc_of_subnet
from .settings import EcsSettings
from .tasks import (
    GONE_ERRORS,
    ROLE_MASTER,
    ROLE_WORKER,
    S3_GONE_ERRORS,
    STOPPED,
    TAG_LAUNCH_ID,
    TAG_ROLE,
    TAG_RUN_ID,
    AwsApiError,
    aws_call,
    client,
    failures,
    is_stopping,
    key_part,
    private_ipv4_address,
    started_by,
    tag_value,
    tags,
    task_id,
    task_status,
)
from .web_secret import forget_secret, read_secret, secret_key, store_secret

if TYPE_CHECKING:  # pragma: no cover
    from botocore.client import BaseClient

logger = logging.getLogger(__name__)

RUN_TASK_MAX_COUNT = 10  # ECS starts at most 10 tasks per RunTask call
DESCRIBE_TASKS_MAX = 100  # and describes at most 100 per DescribeTasks call
SIGV4_MAX_EXPIRY_SECONDS = 7 * 24 * 3600
MASTER = "the Locust master task"

# A resolver takes a task as DescribeTasks returns it and answers the host Locust listens on (None
# while the task has no address yet).
MasterAddressResolver = Callable[[Mapping[str, Any]], "str | None"]


class EcsLocustBackend(LocustWebBackend):
    name = "ecs"

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

    # ---- the port ------------------------------------------------------------------------------

    def launch(self, spec: ClusterSpec) -> ClusterHandle:
        """Upload the script, RunTask the master, return the handle without waiting for anything."""
        problems = self.settings.problems()
        if problems:
            raise LocustStartError("the ecs backend is not configured: missing " + ", ".join(problems))
        refused = self.settings.network_problems()
        if refused:
            raise LocustStartError("the cluster configuration's network is refused: " + "; ".join(refused))
        settings = self.settings
        launch_id = spec.launch_id or uuid.uuid4().hex
        handle = ClusterHandle(
            backend=self.name,
            run_id=spec.run_id,
            web_url="",  # known once the master has an IP (begin)
            workers=spec.workers,
            started_at=time.time(),
            launch_id=launch_id,
            details={
                "cluster": settings.cluster,
                "region": settings.region,
                "launch_id": launch_id,
                "started_by": started_by(spec.run_id),
                "container_name": settings.container_name,
                "web_port": settings.web_port,
                "master_port": settings.master_port,
                "master_task_arn": None,
                "master_ip": None,
                "worker_task_arns": [],
                "script_bucket": settings.script_bucket,
                # One object per launch: a racing launch's teardown must not delete the winner's.
                "script_key": _script_key(spec.run_id, launch_id),
                # The master's archive holds the web secret too; deleted once begin is done.
                "master_archive_key": _master_archive_key(spec.run_id, launch_id),
                "web_secret_key": secret_key(spec.run_id, launch_id),
                "security_group_id": None,
                "managed_by": settings.managed_by,  # the tag its group carries, whatever the settings say later
            },
        )
        try:
            handle.details["security_group_id"] = self._create_run_group(handle)
            secret = new_secret()
            store_secret(self._s3(), settings.script_bucket, handle.details["web_secret_key"], secret)
            self._upload_bundle(handle, spec)
            self._upload_bundle(handle, spec, web_secret=secret)
            env = {**dict(spec.env), BUNDLE_URL_ENV: self._bundle_url(handle, spec, handle.details["master_archive_key"])}
            response = self._run_tasks(handle, ROLE_MASTER, settings.master_task_definition, self._master_command(spec), env, count=1)
            started = response.get("tasks") or []
            if started:
                handle.details["master_task_arn"] = started[0]["taskArn"]
            if not started or response.get("failures"):
                raise LocustStartError(f"ECS did not start the Locust master: {failures(response)}")
            return handle
        except BaseException as exc:
            raise self._launch_failed(handle, exc) from None

    def find_launches(self, run_id: str, launch_id: str | None = None) -> list[ClusterHandle]:
        """The run's tasks ECS still runs (ListTasks by startedBy, DescribeTasks for the tags), one
        handle per launch: its master and workers, its script object, in the configured cluster."""
        probe = ClusterHandle(backend=self.name, run_id=run_id, web_url="", workers=0, started_at=0.0, launch_id=launch_id or "")
        probe.details = {"cluster": self.settings.cluster, "launch_id": launch_id, "started_by": started_by(run_id)}
        launches: dict[str, list[dict[str, Any]]] = {}
        for task in self._launch_tasks(probe, include_listed=True).values():
            if not is_stopping(task) and tags(task).get(TAG_LAUNCH_ID):
                launches.setdefault(tags(task)[TAG_LAUNCH_ID], []).append(task)
        return [self._found_launch(run_id, found_id, tasks) for found_id, tasks in sorted(launches.items())]

    def _found_launch(self, run_id: str, launch_id: str, tasks: list[dict[str, Any]]) -> ClusterHandle:
        masters = sorted(t["taskArn"] for t in tasks if tags(t).get(TAG_ROLE) == ROLE_MASTER)
        workers = sorted(t["taskArn"] for t in tasks if tags(t).get(TAG_ROLE, ROLE_WORKER) == ROLE_WORKER)
        settings = self.settings
        details = {
            "cluster": settings.cluster, "region": settings.region, "launch_id": launch_id, "started_by": started_by(run_id),
            "container_name": settings.container_name, "web_port": settings.web_port, "master_port": settings.master_port,
            "master_task_arn": masters[0] if masters else None, "master_ip": None, "worker_task_arns": workers,
            "script_bucket": settings.script_bucket, "script_key": _script_key(run_id, launch_id),
        }  # fmt: skip
        return ClusterHandle(backend=self.name, run_id=run_id, web_url="", workers=len(workers), started_at=0.0, launch_id=launch_id, details=details)

    def status(self, handle: ClusterHandle) -> ProcessStatus:
        """The master and every worker the handle knows, in one DescribeTasks. Alive until ECS stops
        one of them (or is asked to: a task whose desired status is STOPPED is on its way out, never
        back). Never raises for a task that is gone."""
        master_arn = handle.details.get("master_task_arn")
        if not master_arn:
            return ProcessStatus(alive=False, exit_code=None, log_tail="no Locust master task was started", reason="no Locust master task")
        workers = list(handle.details.get("worker_task_arns") or [])
        found = self._describe(handle, [master_arn, *workers])
        container = self._container_name(handle)
        for arn, what in ((master_arn, MASTER), *((w, f"Locust worker task {task_id(w)}") for w in workers)):
            task = found.get(arn)
            if task is None:  # ECS forgets stopped tasks after about an hour
                return ProcessStatus(alive=False, exit_code=None, log_tail=f"ECS no longer knows {what} ({arn})", reason=f"{what} is gone")
            status = task_status(task, container, what)
            if not status.alive:
                return self._with_log_tail(handle, task, status)
        return ProcessStatus(alive=True, exit_code=None)

    def _with_log_tail(self, handle: ClusterHandle, task: Mapping[str, Any], status: ProcessStatus) -> ProcessStatus:
        """A stopped task's status with its container's last log lines (CloudWatch Logs) before
        ECS's account of the stop, so a failure reason keeps both. Only for a stopped task: a
        healthy poll stays one DescribeTasks. Best effort: what cannot be read is a one-line note."""
        container = self._container_name(handle)
        try:
            response = aws_call(self._ecs().describe_task_definition, taskDefinition=str(task.get("taskDefinitionArn") or ""))
        except AwsApiError as exc:
            tail = unreadable("the task's log", exc)
        else:
            where = awslogs_location(response.get("taskDefinition") or {}, container, str(task.get("taskArn") or ""))
            if where is None:
                tail = f"(no log to read: container {container} does not log through awslogs)"
            else:
                group, stream, region = where
                tail = log_tail_or_note(self._logs(region or handle.details.get("region") or self.settings.region), group, stream)
        return dataclasses.replace(status, log_tail=f"{tail}\n{status.log_tail}")

    def teardown(self, handle: ClusterHandle) -> ProcessStatus:
        """StopTask every task of this launch (the handle's, and any found by startedBy + tags, so a
        handle recorded before begin still reaches its workers), then delete the script object.

        A handle without a launch id (rebuilt from a run id alone) stops every task of the run.
        Tasks already stopped or unknown to ECS are fine; any other AWS failure is raised after
        everything else has been tried."""
        final = self._status_quietly(handle)
        if final.alive:  # stopped by us: its exit code will say nothing about the run
            final = ProcessStatus(alive=False, exit_code=None)
        errors = self._stop_tasks(handle) + self._delete_script(handle)
        if errors:
            raise BackendUnavailableError("ECS teardown incomplete: " + "; ".join(errors))
        self._delete_run_groups(handle)  # after the stops: their interfaces hold the group
        return final

    def begin(self, handle: ClusterHandle, spec: ClusterSpec) -> None:
        super().begin(handle, spec)
        # The master answered with the secret, so it has its archive: the one object that holds the
        # secret behind a URL DescribeTasks shows (the master's overrides) can go now.
        self._delete_objects(handle, [str(handle.details.get("master_archive_key") or "")])

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
            keys += [_master_archive_key(handle.run_id, handle.launch_id), secret_key(handle.run_id, handle.launch_id)]
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

    # ---- launch --------------------------------------------------------------------------------

    def _upload_bundle(self, handle: ClusterHandle, spec: ClusterSpec, *, web_secret: str | None = None) -> None:
        """The workers' archive (`script_key`), or with `web_secret` the master's (`master_archive_key`)."""
        bucket = handle.details["script_bucket"]
        key = handle.details["master_archive_key"] if web_secret else handle.details["script_key"]
        aws_call(
            self._s3().put_object, Bucket=bucket, Key=key, Body=runtime_archive(spec, web_secret=web_secret),
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

    def _master_command(self, spec: ClusterSpec) -> list[str]:
        # The bootstrap's arguments: `--` then Locust's (it adds `-f <bundle>/<entry>` itself).
        settings = self.settings
        return [
            "--",
            "--master",
            "--master-bind-host", "0.0.0.0",
            "--master-bind-port", str(settings.master_port),
            "--web-host", "0.0.0.0",  # the task's ENI: reachable only through its security group
            "--web-port", str(settings.web_port),
            # Only honoured with --headless/--autostart; begin waits for the workers itself.
            "--expect-workers", str(spec.workers),
            "--host", spec.target_url,
        ]  # fmt: skip

    def _worker_command(self, master_ip: str) -> list[str]:
        # Workers run the bundle's own locustfile (the bootstrap's `-f`), every file beside it; they
        # retry the master for up to 5 minutes (Locust's CONNECT_TIMEOUT x CONNECT_RETRY_COUNT).
        return ["--", "--worker", "--master-host", master_ip, "--master-port", str(self.settings.master_port)]

    def _run_tasks(
        self, handle: ClusterHandle, role: str, task_definition: str, command: list[str], env: Mapping[str, str], *, count: int
    ) -> dict[str, Any]:
        settings = self.settings
        labels = {**dict(settings.tags), TAG_RUN_ID: tag_value(handle.run_id), TAG_LAUNCH_ID: handle.details["launch_id"], TAG_ROLE: role}
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

    # ---- begin ---------------------------------------------------------------------------------

    def _prepare(self, handle: ClusterHandle, spec: ClusterSpec, deadline: float) -> None:
        self._wait_for_master_address(handle, deadline)

    def _start_workers(self, handle: ClusterHandle, spec: ClusterSpec) -> None:
        self._ensure_workers(handle, spec, str(handle.details["master_ip"]))

    def _wait_for_master_address(self, handle: ClusterHandle, deadline: float) -> str:
        arn = handle.details.get("master_task_arn")
        if not arn:
            raise LocustStartError("the handle names no Locust master task")

        def address() -> str | None:
            task = self._describe(handle, [arn]).get(arn)
            if task is None:
                raise LocustStartError(f"ECS no longer knows the Locust master task {arn}")
            status = task_status(task, self._container_name(handle), MASTER)
            if not status.alive:
                raise LocustStartError("the Locust master task stopped during start", exit_code=status.exit_code, log_tail=status.log_tail)
            return self._resolve_address(task) or None

        ip = poll(address, timeout=max(0.0, deadline - time.monotonic()), interval=self._probe_interval)
        if not ip:
            raise self._start_error(handle, f"the Locust master task got no IP address within {self._start_timeout:g} s")
        self._remember_master(handle, ip)
        return str(ip)

    def _ensure_workers(self, handle: ClusterHandle, spec: ClusterSpec, master_ip: str) -> None:
        """Start the workers this launch lacks; those already started (recorded in the handle or
        found by startedBy) are counted, never started twice."""
        workers = self._worker_tasks(handle)
        handle.details["worker_task_arns"] = sorted(workers)
        stopped = [task for task in workers.values() if is_stopping(task)]
        if stopped:
            what = f"a Locust worker task ({task_id(stopped[0].get('taskArn', ''))})"
            status = task_status(stopped[0], self._container_name(handle), what)
            raise LocustStartError(f"{what} stopped during start", exit_code=status.exit_code, log_tail=status.log_tail)
        missing = spec.workers - len(workers)
        while missing > 0:
            count = min(missing, RUN_TASK_MAX_COUNT)
            env = {**dict(spec.env), BUNDLE_URL_ENV: self._bundle_url(handle, spec)}
            response = self._run_tasks(
                handle, ROLE_WORKER, self.settings.worker_task_definition, self._worker_command(master_ip), env, count=count
            )
            arns = [task["taskArn"] for task in response.get("tasks") or []]
            handle.details["worker_task_arns"].extend(arns)
            if len(arns) < count or response.get("failures"):
                raise self._start_error(handle, f"ECS started {len(arns)} of {count} Locust worker tasks: {failures(response)}")
            missing -= count

    # ---- the master's web API ------------------------------------------------------------------

    def _web_url(self, handle: ClusterHandle) -> str:
        """The master's web API. A handle stored after begin knows it; one recorded at launch asks ECS."""
        if handle.web_url:
            return handle.web_url
        arn = handle.details.get("master_task_arn")
        task = self._describe(handle, [arn]).get(arn) if arn else None
        ip = self._resolve_address(task) if task else None
        if not ip:
            status = self.status(handle)
            if not status.alive:
                raise LocustCrashedError(status.reason, exit_code=status.exit_code, log_tail=status.log_tail)
            raise BackendUnavailableError("the Locust master task has no IP address yet")
        return self._remember_master(handle, ip)

    def _remember_master(self, handle: ClusterHandle, ip: str) -> str:
        handle.details["master_ip"] = ip
        handle.web_url = f"http://{ip}:{handle.details.get('web_port') or self.settings.web_port}"
        return handle.web_url

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


def _script_key(run_id: str, launch_id: str) -> str:
    return f"scripts/{key_part(run_id)}/{launch_id}/bundle.zip"


def _master_archive_key(run_id: str, launch_id: str) -> str:
    return f"scripts/{key_part(run_id)}/{launch_id}/master.zip"
