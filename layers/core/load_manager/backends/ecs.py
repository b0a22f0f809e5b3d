"""The ecs backend: Locust on AWS Fargate, one master task and N worker tasks, driven through the
master's web API (port 8089) exactly as the local backend drives its processes.

    launch    uploads the script to S3 (SSE), RunTask the master with `-f <presigned URL>` (Locust
              downloads a locustfile given as a URL) and returns at once: the handle (master task
              ARN, S3 object) is recorded before anything slow can time out.
    begin     waits for the master's ENI and private IP, RunTask the workers with `-f -` (they fetch
              the script from the master over 5557), waits for the web API and for N connected
              workers, POSTs /swarm and confirms the load by `state`. Idempotent.
    sample / stop_load / collect    the master's web API (`locust_web`, shared with the local backend).
    status    DescribeTasks on the master.
    teardown  StopTask on the master and every worker, delete the script object. Idempotent.

Stateless on purpose. The orchestrator stores the handle once, right after launch, so what begin
learns (the master's IP, the workers' ARNs) is written into the handle but never relied upon: the
IP is read again with DescribeTasks, the workers are found again with
`ListTasks(startedBy=<run id>)` and their tags. Every task carries:
    startedBy                 the run id (ECS keeps 36 characters of it)
    load-manager:run-id       the run id
    load-manager:launch-id    one launch of the run: when two StartRun attempts race, the loser's
                              teardown stops its own tasks only, never the winner's
    load-manager:role         master | worker

Network: the Lambda reaches the master's *private* IP on 8089 and the workers reach it on 5557, so
the Lambda runs in the tasks' VPC and the security groups allow both (deploy/ecs-resources.yaml).
The web API has no authentication: it must never be reachable from outside the VPC.

Logs: Locust's output goes to CloudWatch Logs through the task definition's awslogs driver. Reading
it back for a failure's log tail is out of scope here (it would need the log group and stream
prefix, logs:GetLogEvents, and the stream only exists once the container has started): `status`
reports ECS's stop code and stopped reason and the container's exit code and reason instead.

boto3 is imported lazily, never at module import: this module ships in the Lambda layer and the
API functions (which never start a cluster) must not pay for it.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from .base import (
    BackendError,
    ClusterHandle,
    ClusterSpec,
    FinalResults,
    LiveStats,
    LocustCrashedError,
    LocustStartError,
    ProcessStatus,
)
from .locust_web import SETTLE_SECONDS, LocustWebApi, SwarmRefusedError, json_object, poll

if TYPE_CHECKING:  # pragma: no cover
    from botocore.client import BaseClient

WEB_PORT = 8089
MASTER_PORT = 5557
RUN_TASK_MAX_COUNT = 10  # ECS starts at most 10 tasks per RunTask call
DESCRIBE_TASKS_MAX = 100  # and describes at most 100 per DescribeTasks call
STARTED_BY_MAX = 36
SIGV4_MAX_EXPIRY_SECONDS = 7 * 24 * 3600
TAG_RUN_ID = "load-manager:run-id"
TAG_LAUNCH_ID = "load-manager:launch-id"
TAG_ROLE = "load-manager:role"
ROLE_MASTER = "master"
ROLE_WORKER = "worker"
_STOPPED = "STOPPED"
# StopTask / DescribeTasks on a task or cluster ECS no longer knows: already gone, nothing to do.
_GONE_ERRORS = frozenset({"InvalidParameterException", "ClusterNotFoundException"})
_S3_GONE_ERRORS = frozenset({"NoSuchBucket", "NoSuchKey", "404"})

# A resolver takes a task as DescribeTasks returns it and answers the host Locust listens on (None
# while the task has no address yet). Tests inject one: moto's tasks have no reachable IP.
MasterAddressResolver = Callable[[Mapping[str, Any]], "str | None"]


@dataclass(frozen=True)
class EcsSettings:
    """Where and how the Fargate tasks run. The task definitions' container (`container_name`) must
    use an image whose entrypoint is `locust` (the public `locustio/locust` image does)."""

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

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EcsSettings:
        """ECS_CLUSTER, ECS_MASTER_TASK_DEFINITION, ECS_WORKER_TASK_DEFINITION, ECS_SUBNETS and
        ECS_SECURITY_GROUPS (comma-separated), ECS_ASSIGN_PUBLIC_IP (true/false), ECS_CONTAINER_NAME,
        SCRIPTS_BUCKET (falls back to REPORTS_BUCKET), AWS_REGION."""
        env = os.environ if environ is None else environ
        return cls(
            cluster=env.get("ECS_CLUSTER", "").strip(),
            master_task_definition=env.get("ECS_MASTER_TASK_DEFINITION", "").strip(),
            worker_task_definition=env.get("ECS_WORKER_TASK_DEFINITION", "").strip(),
            subnets=_split_list(env.get("ECS_SUBNETS", "")),
            security_groups=_split_list(env.get("ECS_SECURITY_GROUPS", "")),
            assign_public_ip=_truthy(env.get("ECS_ASSIGN_PUBLIC_IP", "")),
            container_name=env.get("ECS_CONTAINER_NAME", "").strip() or "locust",
            script_bucket=(env.get("SCRIPTS_BUCKET") or env.get("REPORTS_BUCKET") or "").strip(),
            region=(env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "").strip() or None,
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, defaults: EcsSettings | None = None) -> EcsSettings:
        """From a stored cluster configuration (`EcsClusterSettings`, camelCase or snake_case keys);
        what it leaves out (the script bucket, the region…) comes from `defaults`."""
        base = defaults or EcsSettings.from_env()

        def pick(snake: str, camel: str, default: Any) -> Any:
            value = data.get(snake, data.get(camel))
            return default if value is None or value == "" else value

        return cls(
            cluster=str(pick("cluster", "cluster", base.cluster)),
            master_task_definition=str(pick("master_task_definition", "masterTaskDefinition", base.master_task_definition)),
            worker_task_definition=str(pick("worker_task_definition", "workerTaskDefinition", base.worker_task_definition)),
            subnets=tuple(pick("subnets", "subnets", base.subnets)),
            security_groups=tuple(pick("security_groups", "securityGroups", base.security_groups)),
            assign_public_ip=bool(pick("assign_public_ip", "assignPublicIp", base.assign_public_ip)),
            container_name=str(pick("container_name", "containerName", base.container_name)),
            script_bucket=str(pick("script_bucket", "scriptBucket", base.script_bucket)),
            region=pick("region", "region", base.region),
            web_port=int(pick("web_port", "webPort", base.web_port)),
            master_port=int(pick("master_port", "masterPort", base.master_port)),
            tags=dict(pick("tags", "tags", base.tags)),
        )

    def problems(self) -> list[str]:
        """What is missing before a cluster can be launched (empty when complete)."""
        required = {
            "cluster (ECS_CLUSTER)": self.cluster,
            "master task definition (ECS_MASTER_TASK_DEFINITION)": self.master_task_definition,
            "worker task definition (ECS_WORKER_TASK_DEFINITION)": self.worker_task_definition,
            "subnets (ECS_SUBNETS)": self.subnets,
            "security groups (ECS_SECURITY_GROUPS)": self.security_groups,
            "script bucket (SCRIPTS_BUCKET)": self.script_bucket,
        }
        return [name for name, value in required.items() if not value]


class EcsLocustBackend:
    name = "ecs"

    def __init__(
        self,
        settings: EcsSettings,
        *,
        ecs_client: BaseClient | None = None,
        s3_client: BaseClient | None = None,
        master_address_resolver: MasterAddressResolver | None = None,
        start_timeout: float = 600.0,
        swarm_timeout: float = 30.0,
        stop_timeout: float = 60.0,
        poll_interval: float = 2.0,
        settle_seconds: float = SETTLE_SECONDS,
        script_url_margin_seconds: int = 3600,
    ):
        """`start_timeout` bounds all of begin (Fargate provisioning of master and workers, image
        pulls, Locust's start): keep it under the Lambda's timeout (900 s) with room to tear down.
        `poll_interval` paces DescribeTasks and web API polls while waiting."""
        self.settings = settings
        self._ecs_client = ecs_client
        self._s3_client = s3_client
        self._resolve_address = master_address_resolver or private_ipv4_address
        self._start_timeout = start_timeout
        self._swarm_timeout = swarm_timeout
        self._stop_timeout = stop_timeout
        self._poll_interval = poll_interval
        self._settle_seconds = settle_seconds
        self._script_url_margin = script_url_margin_seconds

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> EcsLocustBackend:
        return cls(EcsSettings.from_env(environ), **kwargs)

    @classmethod
    def from_cluster_settings(cls, ecs_settings: Mapping[str, Any] | None, **kwargs: Any) -> EcsLocustBackend:
        """From a stored cluster configuration's `ecs` settings, the environment filling the gaps
        (no configuration at all: the deployment's default cluster, from the environment alone)."""
        defaults = EcsSettings.from_env()
        settings = EcsSettings.from_mapping(ecs_settings, defaults=defaults) if ecs_settings else defaults
        return cls(settings, **kwargs)

    # ---- the port ------------------------------------------------------------------------------

    def start(self, spec: ClusterSpec) -> ClusterHandle:
        handle = self.launch(spec)
        self.begin(handle, spec)
        return handle

    def launch(self, spec: ClusterSpec) -> ClusterHandle:
        """Upload the script, RunTask the master, return the handle without waiting for anything."""
        problems = self.settings.problems()
        if problems:
            raise LocustStartError("the ecs backend is not configured: missing " + ", ".join(problems))
        settings = self.settings
        launch_id = uuid.uuid4().hex
        handle = ClusterHandle(
            backend=self.name,
            run_id=spec.run_id,
            web_url="",  # known once the master has an IP (begin)
            workers=spec.workers,
            started_at=time.time(),
            details={
                "cluster": settings.cluster,
                "region": settings.region,
                "launch_id": launch_id,
                "started_by": _started_by(spec.run_id),
                "container_name": settings.container_name,
                "web_port": settings.web_port,
                "master_port": settings.master_port,
                "master_task_arn": None,
                "master_ip": None,
                "worker_task_arns": [],
                "script_bucket": settings.script_bucket,
                # One object per launch: a racing launch's teardown must not delete the winner's.
                "script_key": f"scripts/{_key_part(spec.run_id)}/{launch_id}/{spec.script_name}",
            },
        )
        try:
            url = self._upload_script(handle, spec)
            response = self._run_tasks(
                handle,
                ROLE_MASTER,
                settings.master_task_definition,
                self._master_command(spec, url),
                spec.env,
                count=1,
            )
            tasks = response.get("tasks") or []
            if tasks:
                handle.details["master_task_arn"] = tasks[0]["taskArn"]
            if not tasks or response.get("failures"):
                raise LocustStartError(f"ECS did not start the Locust master: {_failures(response)}")
            return handle
        except BaseException as exc:
            self._teardown_quietly(handle)
            if isinstance(exc, LocustStartError):
                raise
            if isinstance(exc, Exception):
                raise LocustStartError(f"could not launch Locust on ECS: {exc}") from exc
            raise

    def begin(self, handle: ClusterHandle, spec: ClusterSpec) -> None:
        """Wait for the master, start the workers, start the swarm, confirm the load.

        Idempotent (a retried Step Functions task): an active load is left alone, and workers
        already started for this launch (recorded in the handle or found by startedBy) are counted,
        never started twice."""
        deadline = time.monotonic() + self._start_timeout
        try:
            master_ip = self._wait_for_master_address(handle, deadline)
            api = self._api(handle)
            if api.answers() and LiveStats.from_locust_json(api.stats()).load_active:
                return
            self._ensure_workers(handle, spec, master_ip)
            self._wait_for_web_api(handle, api, deadline)
            # No /stats/requests before the swarm: Locust memoizes it for 2 s, and a "ready" read now
            # would still be served after /swarm. A retry's active load was caught above.
            # A master with fewer workers than asked would swarm on those alone (or, with none, answer
            # /swarm with success and never start): wait for all of them.
            self._wait_for_workers(handle, api, spec.workers, deadline)
            try:
                api.swarm(spec.users, spec.spawn_rate, spec.target_url)
            except SwarmRefusedError as exc:
                raise self._start_error(handle, str(exc)) from exc
            self._wait_until_load_active(handle, api)
        except BaseException as exc:
            # Never leave Fargate tasks (and their bill) behind a failed start.
            final = self._teardown_quietly(handle)
            if isinstance(exc, LocustStartError):
                exc.log_tail = exc.log_tail or final.log_tail
                raise
            if isinstance(exc, Exception):
                raise LocustStartError(
                    f"could not start Locust on ECS: {exc}", exit_code=final.exit_code, log_tail=final.log_tail
                ) from exc
            raise

    def sample(self, handle: ClusterHandle) -> LiveStats:
        return LiveStats.from_locust_json(self._api(handle).stats())

    def status(self, handle: ClusterHandle) -> ProcessStatus:
        """The master task's state. Alive until ECS stops it (or is asked to: a task whose desired
        status is STOPPED is on its way out, never back). Never raises for a task that is gone."""
        arn = handle.details.get("master_task_arn")
        if not arn:
            return ProcessStatus(alive=False, exit_code=None, log_tail="no Locust master task was started")
        task = self._describe(handle, [arn]).get(arn)
        if task is None:
            # ECS forgets stopped tasks after about an hour.
            return ProcessStatus(alive=False, exit_code=None, log_tail=f"ECS no longer knows the Locust master task {arn}")
        return _task_status(task, handle.details.get("container_name") or self.settings.container_name)

    def stop_load(self, handle: ClusterHandle) -> None:
        self._api(handle).stop(timeout=self._stop_timeout)

    def collect(self, handle: ClusterHandle) -> FinalResults:
        api = self._api(handle)
        payload = api.final_stats(
            workers=handle.workers,
            stop_timeout=self._stop_timeout,
            settle_seconds=self._settle_seconds,
            interval=min(self._poll_interval, 0.5),
        )
        report = api.report()
        status = self.status(handle)
        return FinalResults.from_locust_json(
            payload, html_report=report, exit_code=status.exit_code, log_tail=status.log_tail
        )

    def teardown(self, handle: ClusterHandle) -> ProcessStatus:
        """StopTask every task of this launch (the handle's, and any found by startedBy + tags, so a
        handle recorded before begin still reaches its workers), then delete the script object.

        A handle without a launch id (rebuilt from a run id alone) stops every task of the run.
        Tasks already stopped or unknown to ECS are fine; any other AWS failure is raised as a
        BackendError after everything else has been tried."""
        errors: list[str] = []
        try:
            final = self.status(handle)
        except BackendError as exc:
            errors.append(str(exc))
            final = ProcessStatus(alive=False, exit_code=None, log_tail="")
        if final.alive:  # stopped by us: its exit code will say nothing about the run
            final = ProcessStatus(alive=False, exit_code=None, log_tail="")

        try:
            tasks = self._cluster_tasks(handle, include_listed=True)
        except BackendError as exc:
            errors.append(str(exc))
            recorded = [handle.details.get("master_task_arn"), *(handle.details.get("worker_task_arns") or [])]
            tasks = {arn: {"taskArn": arn} for arn in recorded if arn}
        reason = f"Load Manager: teardown of run {handle.run_id}"[:255]
        for arn, task in tasks.items():
            if task.get("desiredStatus") == _STOPPED:
                continue
            try:
                self._aws(self._ecs().stop_task, cluster=self._cluster(handle), task=arn, reason=reason)
            except _AwsError as exc:
                if exc.code not in _GONE_ERRORS:
                    errors.append(str(exc))

        bucket, key = handle.details.get("script_bucket"), handle.details.get("script_key")
        if bucket and key:
            try:
                self._aws(self._s3().delete_object, Bucket=bucket, Key=key)
            except _AwsError as exc:
                if exc.code not in _S3_GONE_ERRORS:
                    errors.append(str(exc))
        if errors:
            raise BackendError("ECS teardown incomplete: " + "; ".join(errors))
        return final

    # ---- launch --------------------------------------------------------------------------------

    def _upload_script(self, handle: ClusterHandle, spec: ClusterSpec) -> str:
        bucket, key = handle.details["script_bucket"], handle.details["script_key"]
        self._aws(
            self._s3().put_object,
            Bucket=bucket,
            Key=key,
            Body=spec.script.encode("utf-8"),
            ContentType="text/x-python; charset=utf-8",
            ServerSideEncryption="AES256",
        )
        # The master downloads it once, at start; the URL is a bearer credential visible in the
        # task's overrides, so it must not outlive the run (SigV4 caps it at 7 days anyway). It is
        # also only valid while the signing credentials are: a Lambda role's last hours, plenty for
        # a master that fetches the script within minutes.
        expires = min(spec.duration_seconds + self._script_url_margin, SIGV4_MAX_EXPIRY_SECONDS)
        url = self._aws(
            self._s3().generate_presigned_url,
            "get_object",
            Params={"Bucket": bucket, "Key": key},
            ExpiresIn=int(expires),
        )
        if "," in url:  # Locust splits -f on commas (several locustfiles)
            raise LocustStartError("the presigned script URL contains a comma, which Locust's -f would split")
        return url

    def _master_command(self, spec: ClusterSpec, script_url: str) -> list[str]:
        settings = self.settings
        return [
            "-f", script_url,
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
        # `-f -`: the worker asks the master for the locustfile over 5557, retrying for up to 5 minutes
        # (Locust's CONNECT_TIMEOUT x CONNECT_RETRY_COUNT) while the master's container starts.
        return ["--worker", "-f", "-", "--master-host", master_ip, "--master-port", str(self.settings.master_port)]

    def _run_tasks(
        self,
        handle: ClusterHandle,
        role: str,
        task_definition: str,
        command: list[str],
        env: Mapping[str, str],
        *,
        count: int,
    ) -> dict[str, Any]:
        settings = self.settings
        tags = {**dict(settings.tags), TAG_RUN_ID: _tag_value(handle.run_id), TAG_LAUNCH_ID: handle.details["launch_id"], TAG_ROLE: role}
        environment = [{"name": str(k), "value": str(v)} for k, v in dict(env or {}).items()]
        environment.append({"name": "PYTHONUNBUFFERED", "value": "1"})  # a crash's last words reach the log
        return self._aws(
            self._ecs().run_task,
            cluster=self._cluster(handle),
            taskDefinition=task_definition,
            launchType="FARGATE",
            count=count,
            startedBy=handle.details["started_by"],
            networkConfiguration={
                "awsvpcConfiguration": {
                    "subnets": list(settings.subnets),
                    "securityGroups": list(settings.security_groups),
                    "assignPublicIp": "ENABLED" if settings.assign_public_ip else "DISABLED",
                }
            },
            overrides={
                "containerOverrides": [
                    {"name": settings.container_name, "command": command, "environment": environment}
                ]
            },
            tags=[{"key": key, "value": value} for key, value in tags.items()],
            enableECSManagedTags=True,
        )  # botocore fills RunTask's clientToken, so its own retries never start tasks twice

    # ---- begin, step by step -------------------------------------------------------------------

    def _wait_for_master_address(self, handle: ClusterHandle, deadline: float) -> str:
        arn = handle.details.get("master_task_arn")
        if not arn:
            raise LocustStartError("the handle names no Locust master task")

        def address() -> str | None:
            task = self._describe(handle, [arn]).get(arn)
            if task is None:
                raise LocustStartError(f"ECS no longer knows the Locust master task {arn}")
            if _is_stopping(task):
                status = _task_status(task, self._container_name(handle))
                raise LocustStartError("the Locust master task stopped during start", exit_code=status.exit_code, log_tail=status.log_tail)
            return self._resolve_address(task) or None

        ip = poll(address, timeout=_remaining(deadline), interval=self._poll_interval)
        if not ip:
            raise self._start_error(handle, f"the Locust master task got no IP address within {self._start_timeout:g} s")
        handle.details["master_ip"] = ip
        handle.web_url = f"http://{ip}:{handle.details.get('web_port') or self.settings.web_port}"
        return ip

    def _ensure_workers(self, handle: ClusterHandle, spec: ClusterSpec, master_ip: str) -> None:
        workers = self._worker_tasks(handle)
        handle.details["worker_task_arns"] = sorted(workers)
        stopped = [task for task in workers.values() if _is_stopping(task)]
        if stopped:
            raise self._worker_stopped_error(handle, stopped[0])
        missing = spec.workers - len(workers)
        while missing > 0:
            count = min(missing, RUN_TASK_MAX_COUNT)
            response = self._run_tasks(
                handle, ROLE_WORKER, self.settings.worker_task_definition, self._worker_command(master_ip), spec.env, count=count
            )
            arns = [task["taskArn"] for task in response.get("tasks") or []]
            handle.details["worker_task_arns"].extend(arns)
            if len(arns) < count or response.get("failures"):
                raise self._start_error(handle, f"ECS started {len(arns)} of {count} Locust worker tasks: {_failures(response)}")
            missing -= count

    def _wait_for_web_api(self, handle: ClusterHandle, api: LocustWebApi, deadline: float) -> None:
        def answered() -> bool | None:
            if api.answers():
                return True
            self._fail_if_stopped(handle)
            return None

        if not poll(answered, timeout=_remaining(deadline), interval=self._poll_interval):
            raise self._start_error(handle, f"Locust's web API on the master did not answer within {self._start_timeout:g} s")

    def _wait_for_workers(self, handle: ClusterHandle, api: LocustWebApi, expected: int, deadline: float) -> None:
        def connected() -> bool | None:
            # /worker-count, not the 2 s memoized /stats/requests: the count must be live.
            if (json_object(api.call("GET", "/worker-count")).get("worker_count") or 0) >= expected:
                return True
            self._fail_if_stopped(handle, workers=True)
            return None

        if not poll(connected, timeout=_remaining(deadline), interval=self._poll_interval):
            raise self._start_error(handle, f"{expected} Locust workers did not connect to the master within {self._start_timeout:g} s")

    def _wait_until_load_active(self, handle: ClusterHandle, api: LocustWebApi) -> None:
        def active() -> bool | None:
            return LiveStats.from_locust_json(api.stats()).load_active or None

        if not poll(active, timeout=self._swarm_timeout, interval=min(self._poll_interval, 0.5)):
            self._fail_if_stopped(handle, workers=True)
            raise self._start_error(handle, f"the swarm did not start within {self._swarm_timeout:g} s")

    def _fail_if_stopped(self, handle: ClusterHandle, *, workers: bool = False) -> None:
        arns = [handle.details["master_task_arn"]] + (list(handle.details.get("worker_task_arns") or []) if workers else [])
        tasks = self._describe(handle, arns)
        master = tasks.get(handle.details["master_task_arn"])
        if master is None or _is_stopping(master):
            raise self._start_error(handle, "the Locust master task stopped during start")
        for arn in arns[1:]:
            task = tasks.get(arn)
            if task is None or _is_stopping(task):
                raise self._worker_stopped_error(handle, task or {"taskArn": arn})

    def _worker_stopped_error(self, handle: ClusterHandle, task: Mapping[str, Any]) -> LocustStartError:
        status = _task_status(task, self._container_name(handle)) if task.get("lastStatus") else None
        return LocustStartError(
            f"a Locust worker task ({_task_id(task.get('taskArn', ''))}) stopped during start",
            exit_code=status.exit_code if status else None,
            log_tail=status.log_tail if status else "",
        )

    def _start_error(self, handle: ClusterHandle, message: str) -> LocustStartError:
        try:
            status = self.status(handle)
        except BackendError:
            status = ProcessStatus(alive=False, exit_code=None, log_tail="")
        return LocustStartError(message, exit_code=status.exit_code, log_tail="" if status.alive else status.log_tail)

    def _teardown_quietly(self, handle: ClusterHandle) -> ProcessStatus:
        try:
            return self.teardown(handle)
        except BackendError as exc:
            return ProcessStatus(alive=False, exit_code=None, log_tail=str(exc))

    # ---- the master's web API ------------------------------------------------------------------

    def _api(self, handle: ClusterHandle) -> LocustWebApi:
        def unreachable() -> None:
            status = self.status(handle)
            if not status.alive:
                raise LocustCrashedError("the Locust master task is not running", exit_code=status.exit_code, log_tail=status.log_tail)

        return LocustWebApi(self._web_url(handle), unreachable=unreachable)

    def _web_url(self, handle: ClusterHandle) -> str:
        """The master's web API; a handle recorded at launch has no IP yet: ask ECS."""
        if handle.web_url:
            return handle.web_url
        arn = handle.details.get("master_task_arn")
        task = self._describe(handle, [arn]).get(arn) if arn else None
        ip = self._resolve_address(task) if task else None
        if not ip:
            status = self.status(handle)
            if not status.alive:
                raise LocustCrashedError("the Locust master task is not running", exit_code=status.exit_code, log_tail=status.log_tail)
            raise BackendError("the Locust master task has no IP address yet")
        handle.details["master_ip"] = ip
        handle.web_url = f"http://{ip}:{handle.details.get('web_port') or self.settings.web_port}"
        return handle.web_url

    # ---- ECS lookups ---------------------------------------------------------------------------

    def _describe(self, handle: ClusterHandle, arns: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Tasks by ARN, with tags; tasks ECS does not know (any more) are left out."""
        arns = list(dict.fromkeys(arn for arn in arns if arn))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(arns), DESCRIBE_TASKS_MAX):
            try:
                response = self._aws(
                    self._ecs().describe_tasks, cluster=self._cluster(handle), tasks=arns[start : start + DESCRIBE_TASKS_MAX], include=["TAGS"]
                )
            except _AwsError as exc:
                if exc.code == "ClusterNotFoundException":
                    return {}  # the cluster is gone, and every task with it
                raise
            for task in response.get("tasks") or []:
                found[task["taskArn"]] = task
        return found

    def _cluster_tasks(self, handle: ClusterHandle, *, include_listed: bool) -> dict[str, dict[str, Any]]:
        """This launch's tasks: those the handle records, plus (include_listed) those ECS lists as
        started by the run and tagged with this launch. Described, by ARN."""
        details = handle.details
        recorded = [details.get("master_task_arn"), *(details.get("worker_task_arns") or [])]
        listed: list[str] = []
        if include_listed:
            started_by = details.get("started_by") or _started_by(handle.run_id)
            try:
                paginator = self._ecs().get_paginator("list_tasks")
                for page in self._aws(paginator.paginate, cluster=self._cluster(handle), startedBy=started_by):
                    listed.extend(page.get("taskArns") or [])
            except _AwsError as exc:
                if exc.code != "ClusterNotFoundException":
                    raise
        tasks = self._describe(handle, [*recorded, *listed])
        launch_id = details.get("launch_id")
        recorded_set = {arn for arn in recorded if arn}
        return {
            arn: task
            for arn, task in tasks.items()
            if arn in recorded_set
            or (_tags(task).get(TAG_RUN_ID) == _tag_value(handle.run_id) and (not launch_id or _tags(task).get(TAG_LAUNCH_ID) == launch_id))
        }

    def _worker_tasks(self, handle: ClusterHandle) -> dict[str, dict[str, Any]]:
        master = handle.details.get("master_task_arn")
        return {
            arn: task
            for arn, task in self._cluster_tasks(handle, include_listed=True).items()
            if arn != master and _tags(task).get(TAG_ROLE, ROLE_WORKER) == ROLE_WORKER
        }

    def _cluster(self, handle: ClusterHandle) -> str:
        # The cluster the tasks were started in, even if the configuration has changed since.
        return handle.details.get("cluster") or self.settings.cluster

    def _container_name(self, handle: ClusterHandle) -> str:
        return handle.details.get("container_name") or self.settings.container_name

    # ---- clients -------------------------------------------------------------------------------

    def _ecs(self) -> BaseClient:
        if self._ecs_client is None:
            self._ecs_client = _client("ecs", self.settings.region)
        return self._ecs_client

    def _s3(self) -> BaseClient:
        if self._s3_client is None:
            self._s3_client = _client("s3", self.settings.region)
        return self._s3_client

    @staticmethod
    def _aws(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run an AWS call, turning SDK failures into `_AwsError` (a BackendError with the code)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            result = call(*args, **kwargs)
            if not isinstance(result, (dict, str)) and hasattr(result, "__iter__"):
                result = list(result)  # paginators are lazy: fail here, inside the try
            return result
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise _AwsError(str(error.get("Code") or "ClientError"), str(exc)) from exc
        except BotoCoreError as exc:
            raise _AwsError(type(exc).__name__, str(exc)) from exc


class _AwsError(BackendError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


# ---- helpers ------------------------------------------------------------------------------------

_clients: dict[tuple[str, str | None], Any] = {}


def _client(service: str, region: str | None) -> BaseClient:
    """One client per service and region per execution environment, created on first use."""
    key = (service, region)
    if key not in _clients:
        import boto3
        from botocore.config import Config

        config = Config(
            retries={"mode": "standard", "max_attempts": 8},  # teardown must survive throttling
            signature_version="s3v4" if service == "s3" else None,  # presigned URLs work with SSE-KMS too
        )
        _clients[key] = boto3.client(service, region_name=region, config=config)
    return _clients[key]


def private_ipv4_address(task: Mapping[str, Any]) -> str | None:
    """The private IP of an awsvpc task's ENI, once attached (DescribeTasks)."""
    for attachment in task.get("attachments") or []:
        if attachment.get("type") == "ElasticNetworkInterface":
            for detail in attachment.get("details") or []:
                if detail.get("name") == "privateIPv4Address" and detail.get("value"):
                    return str(detail["value"])
    for container in task.get("containers") or []:
        for interface in container.get("networkInterfaces") or []:
            if interface.get("privateIpv4Address"):
                return str(interface["privateIpv4Address"])
    return None


def _is_stopping(task: Mapping[str, Any]) -> bool:
    return task.get("lastStatus") == _STOPPED or task.get("desiredStatus") == _STOPPED


def _task_status(task: Mapping[str, Any], container_name: str) -> ProcessStatus:
    if not _is_stopping(task):
        return ProcessStatus(alive=True, exit_code=None)
    container = next((c for c in task.get("containers") or [] if c.get("name") == container_name), None)
    # An exit code exists only once the container has stopped (and not when it never started).
    exit_code = container.get("exitCode") if container and task.get("lastStatus") == _STOPPED else None
    lines = [f"ECS task {_task_id(task.get('taskArn', ''))}: {task.get('lastStatus')} (desired {task.get('desiredStatus')})"]
    if task.get("stopCode"):
        lines.append(f"stop code: {task['stopCode']}")
    if task.get("stoppedReason"):
        lines.append(f"stopped reason: {task['stoppedReason']}")
    if container and container.get("reason"):
        lines.append(f"container {container_name}: {container['reason']}")
    return ProcessStatus(alive=False, exit_code=exit_code if isinstance(exit_code, int) else None, log_tail="\n".join(lines))


def _tags(task: Mapping[str, Any]) -> dict[str, str]:
    return {str(tag.get("key")): str(tag.get("value")) for tag in task.get("tags") or []}


def _failures(response: Mapping[str, Any]) -> str:
    failures = response.get("failures") or []
    text = "; ".join(f"{f.get('reason') or 'failed'}{' (' + f['detail'] + ')' if f.get('detail') else ''}" for f in failures)
    return text or "no task and no failure reported"


def _task_id(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _started_by(run_id: str) -> str:
    # startedBy: up to 36 letters, digits, hyphens, underscores and slashes.
    return re.sub(r"[^A-Za-z0-9_/-]", "-", run_id)[:STARTED_BY_MAX] or "load-manager"


def _tag_value(value: str) -> str:
    return re.sub(r"[^\w .:/=+@-]", "-", value)[:256]


def _key_part(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", run_id)[:200] or "run"


def _remaining(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _truthy(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on", "enabled"}
