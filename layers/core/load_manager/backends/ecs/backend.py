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
    load-manager:worker-index a worker's index (also its LOAD_MANAGER_WORKER_INDEX: locust_hooks.py)
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
import time
import uuid
from collections.abc import Mapping
from typing import Any

from ..base import BackendUnavailableError, ClusterHandle, ClusterSpec, LocustCrashedError, LocustStartError, ProcessStatus
from ..bundle_layout import BUNDLE_URL_ENV
from ..locust_hooks import slot_env
from ..locust_web import new_secret, poll
from .logs import awslogs_location, log_tail_or_note, unreadable
from .operations import master_archive_key, script_key
from .tasks import (
    ROLE_MASTER,
    ROLE_WORKER,
    TAG_LAUNCH_ID,
    TAG_ROLE,
    TAG_RUN_ID,
    TAG_WORKER_INDEX,
    AwsApiError,
    aws_call,
    failures,
    is_stopping,
    missing_worker_indexes,
    started_by,
    tags,
    task_id,
    task_status,
)
from .usage import EcsTaskUsage
from .web_secret import secret_key, store_secret

LIVE_TASKS_LISTED = 1000  # what `live_launches` looks at: ten ListTasks pages
MASTER = "the Locust master task"


class EcsLocustBackend(EcsTaskUsage):  # EcsOperations, with what a launch's tasks were given (usage.py)
    name = "ecs"

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
                "script_key": script_key(spec.run_id, launch_id),
                # The master's archive holds the web secret too; deleted once begin is done.
                "master_archive_key": master_archive_key(spec.run_id, launch_id),
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
            master_url = self._bundle_url(handle, spec, handle.details["master_archive_key"])
            env = {**dict(spec.env), **slot_env(None, spec.workers), BUNDLE_URL_ENV: master_url}
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

    def live_launches(self) -> list[ClusterHandle]:
        """The launches with tasks running in the deployment's cluster (ListTasks desiredStatus
        RUNNING, at most LIVE_TASKS_LISTED tasks; DescribeTasks for their tags), oldest first. Tasks
        without this product's run and launch tags (another deployment's) are not listed."""
        probe = ClusterHandle(backend=self.name, run_id="", web_url="", workers=0, started_at=0.0, details={"cluster": self.settings.cluster})
        arns: list[str] = []
        try:
            paginator = self._ecs().get_paginator("list_tasks")
            pages = aws_call(
                paginator.paginate, cluster=self.settings.cluster, desiredStatus="RUNNING", PaginationConfig={"MaxItems": LIVE_TASKS_LISTED}
            )
        except AwsApiError as exc:
            if exc.code == "ClusterNotFoundException":
                return []
            raise
        for page in pages:
            arns.extend(page.get("taskArns") or [])
        launches: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for task in self._describe(probe, arns).values():
            labels = tags(task)
            if not is_stopping(task) and labels.get(TAG_RUN_ID) and labels.get(TAG_LAUNCH_ID):
                launches.setdefault((labels[TAG_RUN_ID], labels[TAG_LAUNCH_ID]), []).append(task)
        oldest_first = sorted(launches.items(), key=lambda item: min(_created(task) for task in item[1]))
        return [self._found_launch(run_id, launch_id, tasks) for (run_id, launch_id), tasks in oldest_first]

    def _found_launch(self, run_id: str, launch_id: str, tasks: list[dict[str, Any]]) -> ClusterHandle:
        masters = sorted(t["taskArn"] for t in tasks if tags(t).get(TAG_ROLE) == ROLE_MASTER)
        workers = sorted(t["taskArn"] for t in tasks if tags(t).get(TAG_ROLE, ROLE_WORKER) == ROLE_WORKER)
        settings = self.settings
        details = {
            "cluster": settings.cluster, "region": settings.region, "launch_id": launch_id, "started_by": started_by(run_id),
            "container_name": settings.container_name, "web_port": settings.web_port, "master_port": settings.master_port,
            "master_task_arn": masters[0] if masters else None, "master_ip": None, "worker_task_arns": workers,
            "script_bucket": settings.script_bucket, "script_key": script_key(run_id, launch_id),
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
        # secret behind a URL DescribeTasks shows (the master's overrides) can go now. Every worker
        # is connected, so each has its archive too: one carrying the run's secrets goes as well.
        keys = [handle.details.get("master_archive_key"), handle.details.get("script_key") if spec.run_env else None]
        self._delete_objects(handle, [str(key) for key in keys if key])

    # ---- Locust's command lines ---------------------------------------------------------------

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
        # One RunTask per worker: each has its own LOAD_MANAGER_WORKER_INDEX (its data share, its
        # runner.worker_index), which one call's overrides cannot give several tasks.
        url = self._bundle_url(handle, spec)
        for index in missing_worker_indexes(workers.values(), spec.workers):
            env = {**dict(spec.env), **slot_env(index, spec.workers), BUNDLE_URL_ENV: url}
            response = self._run_tasks(
                handle, ROLE_WORKER, self.settings.worker_task_definition, self._worker_command(master_ip), env, count=1,
                extra_tags={TAG_WORKER_INDEX: str(index)},
            )  # fmt: skip
            arns = [task["taskArn"] for task in response.get("tasks") or []]
            handle.details["worker_task_arns"].extend(arns)
            if not arns or response.get("failures"):
                raise self._start_error(handle, f"ECS did not start Locust worker task {index}: {failures(response)}")

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

def _created(task: Mapping[str, Any]) -> float:
    created = task.get("createdAt")  # a datetime (boto3 parses it)
    return float(created.timestamp()) if created is not None and hasattr(created, "timestamp") else 0.0
