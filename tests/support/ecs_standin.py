"""A stand-in for ECS Fargate, for tests: every task the real `EcsLocustBackend` starts becomes a
local process, so the commands it builds really run (Locust's master downloading its script from a
presigned S3 URL, workers fetching it from the master over the master port, the web API on the
master's "private IP").

    with EcsStandIn(root=tmp_path) as standin:
        backend = EcsLocustBackend(standin.settings, ecs_client=standin.ecs, s3_client=standin.s3, logs_client=standin.logs)
        handle = backend.start(spec)                     # real Locust processes, on loopback
        standin.tasks("worker"); standin.kill_task(arn)   # look and break things
        standin.fail_calls("DescribeTasks", times=2)      # AWS errors as botocore receives them

AWS (moto). S3, ECS, EC2 and CloudWatch Logs are served over HTTP by moto's `ThreadedMotoServer`
on 127.0.0.1 (a free port), and every client of the stand-in talks to it through `endpoint_url`: the presigned
script URL points at it, so Locust's `-f <URL>` (a plain `requests.get` in another process)
really downloads the script. ECS goes over the same HTTP server rather than in-process `mock_aws`,
so requests and responses cross the wire as botocore builds and parses them, whether or not a
`mock_aws()` is active.

What was verified about moto 5.2 (tests/ecs/test_ecs_standin.py keeps it checked):
- A client with `endpoint_url=http://127.0.0.1:PORT` passes through an active in-process
  `mock_aws()`: its `before-send` stubber only answers URLs matching a backend's URL patterns
  (AWS domains, plus `MOTO_S3_CUSTOM_ENDPOINTS`), so with the server stopped such a call fails
  with EndpointConnectionError instead of being answered in process.
- The threaded server and `mock_aws` share one in-process state (`moto.backends`), and the
  outermost `mock_aws` resets all of it on enter and on exit. So the stand-in holds a
  `mock_aws()` itself for its whole life: started inside an active mock it nests (no reset);
  a mock entered later (`InProcessStepFunctions`) nests into it, so neither wipes the other's
  cluster, task definitions or bucket.
- moto's RunTask sums container-level memory even for Fargate and fails without it; the template
  declares memory per task only, so container definitions get `memoryReservation` = the task's
  memory when they declare none (moto only; no effect on the processes).
- moto's task stays RUNNING only with a manual `ecs::task` state transition (set while the
  stand-in runs); its containers say PENDING with exit code 0 whatever happens. DescribeTasks is
  therefore rewritten from the processes' truth (see below).

The seams are botocore event hooks on the clients the stand-in hands out (`ecs`, `s3`, `logs`):
    after-call.ecs.RunTask        each task started becomes a process (see `_spawn`)
    after-call.ecs.DescribeTasks  status, stop code, exit code and addresses from the process; the
                                  task's size (cpu, memory) from its definition, as ECS answers
    after-call.ecs.StopTask       SIGTERM to the task's process group, SIGKILL after a grace
    before-parameter-build.ecs.ListTasks  moto learns of exited tasks before it lists
    before-call.*, before-send.*  call counters; `fail_calls` answers a real AWS error response
                                  (`logs` has only these: what it reads, moto answers)
ECS's own view stays consistent: a task whose process exits (by itself or killed) is stopped in
moto through a separate, unhooked client (`moto_ecs`), so ListTasks(desiredStatus=RUNNING) agrees.
`calls` counts API calls per operation, `requests` the HTTP attempts (botocore's retries included).
The ECS client retries little by default (standard mode, `total_max_attempts` 2: one retry; note
that botocore's `max_attempts` counts retries, not attempts).

A task is started from its task definition exactly as Fargate would: entry point + the override's
command (else the definition's), `image_environment` (what the image's own ENV sets) + definition
environment + override environment, its own working directory, HOME and TMPDIR (every container
has its own /tmp: Locust writes downloaded locustfiles to tempfile.gettempdir()), stdout and
stderr to `container.log` in its directory, and
its own loopback address (127.x.y.z, x != 0, so two stand-ins on one machine do not collide),
which is the private IP DescribeTasks reports. The only liberty taken: a bind to 0.0.0.0 in the
command is a bind to that address (a Fargate task has its own network namespace; these share one).

Logs: a container whose definition uses the awslogs driver has its output (`container.log`, one
event per non-blank line) put into moto's CloudWatch Logs when its process exits, before ECS is
told, in the definition's group (created by the stand-in if moto lacks it) and stream
`<awslogs-stream-prefix>/<container name>/<task id>`, as Fargate names it. A task that never
started has no stream, as on Fargate. Only at exit: a running task's stream is not there yet.

Network (`network=True`, the default): security groups hold between tasks as EC2's state in moto
says. RunTask's networkConfiguration is moto's: its task gets an ENI (moto's EC2) in the first subnet
with the groups named. The stand-in writes each live task's address, ENI address and groups, and
every group's rules, to a JSON file (`network_snapshot()`), rewritten when a task starts (before its
process), when its ENI is released, and after every security group change made through `ec2` (the
stand-in's EC2 client, hooked like `ecs`). Every task process gets tests/support/
ecs_standin_network.py as its `sitecustomize` (stand-in machinery, like the 0.0.0.0 rewrite): it
checks each connection the task opens to another task's address against those rules and drops what
they do not admit (that file's doc says exactly what is and is not modelled). The process driving
the backend (the test, standing for the run_workflow Lambda in `control_plane_group`) is outside the
model: nothing restricts it. A stopped task's ENI is released `eni_release_delay` seconds after its
process exits, as Fargate releases it asynchronously; until then moto's EC2 answers
DeleteSecurityGroup on one of its groups with DependencyViolation, as EC2 does, and so it does for
a group another group's rule names (moto alone would delete both: the stand-in makes moto's EC2
backend refuse, in process and behind the server, for its life). `settings` name the stand-in's
VPC and `control_plane_group`, so the ecs backend creates each run's own group there.
"""

from __future__ import annotations

import copy
import functools
import io
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from moto import mock_aws
from moto.moto_api import state_manager
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from load_manager.backends.ecs import EcsSettings
from load_manager_local.template import load_template, ref_target
from support.ecs_standin_network import ADDRESS_ENV, NETWORK_ENV, rules_of, write_sitecustomize

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
MASTER_DEFINITION = "LocustMasterTaskDefinition"
WORKER_DEFINITION = "LocustWorkerTaskDefinition"
ROLE_MASTER = "master"
ROLE_WORKER = "worker"
STACK_NAME = "load-manager-standin"
ACCOUNT_ID = "123456789012"

ESSENTIAL_EXITED = "EssentialContainerExited"
ESSENTIAL_EXITED_REASON = "Essential container in task exited"
USER_INITIATED = "UserInitiated"
_ANY_ADDRESS = "0.0.0.0"
_MANUAL = {"progression": "manual", "times": 10**9}
# What changes which connections EC2 admits (the network model is rewritten after each).
_GROUP_CHANGES = (
    "CreateSecurityGroup", "DeleteSecurityGroup", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "ModifyNetworkInterfaceAttribute",
)  # fmt: skip
NETWORK_FILE = ".standin-network.json"
NETWORK_PYTHON = ".standin-python"  # the folder with the network model's sitecustomize.py


@dataclass
class StandInTask:
    """One ECS task and the process standing in for its (single, essential) container."""

    arn: str
    role: str
    address: str
    cluster: str  # the cluster RunTask named (a template harness's, or the stand-in's own)
    directory: Path
    argv: list[str]
    environment: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    exit_code: int | None = None  # Docker's: the process's code, or 128+N after signal N
    start_error: str = ""  # the process could not be started (CannotStartContainerError)
    stop_reason: str = ""  # set when StopTask asked for the stop (UserInitiated)
    log_group: str = ""  # where the awslogs driver writes (empty: the container does not use it)
    log_stream: str = ""
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    stopped_at: datetime | None = None
    exited: threading.Event = field(default_factory=threading.Event)
    synced: bool = False  # moto knows the task is stopped
    lock: threading.Lock = field(default_factory=threading.Lock)  # signals vs reaping
    sync_lock: threading.Lock = field(default_factory=threading.Lock)  # one StopTask to moto
    eni_id: str = ""  # its network interface in moto's EC2, released some time after it stops
    eni_released: threading.Event = field(default_factory=threading.Event)

    @property
    def id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def alive(self) -> bool:
        return self.process is not None and not self.exited.is_set()

    @property
    def log_path(self) -> Path:
        return self.directory / "container.log"

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def signal(self, signum: int) -> bool:
        """Signal the task's process group; False once the process has been reaped (its group id
        may then belong to someone else)."""
        with self.lock:
            if self.process is None or self.process.returncode is not None:
                return False
            try:
                os.killpg(self.process.pid, signum)
            except ProcessLookupError:
                return False
            return True


class _MotoServer(ThreadedMotoServer):
    """moto's threaded server, quiet, recording each request (method, path, query, user agent)."""

    def __init__(self) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.requests: list[dict[str, str]] = []

    def _server_entry(self) -> None:
        # ThreadedMotoServer's own entry, with the app wrapped to record what reaches it.
        app = DomainDispatcherApplication(create_backend_app)

        def recording_app(environ: dict[str, Any], start_response: Any) -> Any:
            self.requests.append({
                "method": environ.get("REQUEST_METHOD", ""),
                "path": environ.get("PATH_INFO", ""),
                "query": environ.get("QUERY_STRING", ""),
                "user_agent": environ.get("HTTP_USER_AGENT", ""),
            })  # fmt: skip
            return app(environ, start_response)

        self._server = make_server(self._ip_address, self._port, recording_app, True, request_handler=_QuietHandler)
        self._server_ready_event.set()
        self._server.serve_forever(poll_interval=0.05)  # stop() waits for a poll


class _QuietHandler(MotoRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class _ErrorBody(io.BytesIO):
    """The `raw` of an AWSResponse: botocore reads error bodies through `stream()`."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


@dataclass
class _Fault:
    code: str
    status: int
    message: str
    remaining: int


class EcsStandIn:
    """ECS Fargate on this machine, for tests. A context manager: whatever it started (processes,
    the moto server, its mock) is stopped on exit, whatever happened inside."""

    def __init__(
        self,
        root: Path | str | None = None,
        *,
        template: Path = TEMPLATE,
        region: str = "us-east-1",
        ecs_config: Config | None = None,
        stop_grace: float = 2.0,
        web_port: int | None = None,
        master_port: int | None = None,
        network: bool = True,
        eni_release_delay: float = 0.5,
    ):
        """`root` holds one directory per task (default: a temporary directory, removed at exit).
        `ecs_config` is the ECS client's botocore Config (default: standard retries, 2 attempts in all).
        `stop_grace` is how long StopTask and exit wait between SIGTERM and SIGKILL.
        `web_port` / `master_port`: default to the ports the master's container declares
        (8089, 5557) unless something on this machine holds them for every address (then a
        free port).
        `network`: enforce EC2's security group rules between tasks (see "Network" in the module doc).
        `eni_release_delay`: how long after a task stops its network interface is released (until
        then, DeleteSecurityGroup on one of its groups answers DependencyViolation, as on Fargate)."""
        self._root_arg = Path(root) if root is not None else None
        self.network = network
        self.eni_release_delay = eni_release_delay
        self._network_lock = threading.Lock()
        self._timers: list[threading.Timer] = []
        self.template = template
        self.region = region
        self.ecs_config = ecs_config or Config(retries={"mode": "standard", "total_max_attempts": 2})
        self.stop_grace = stop_grace
        self._ports = (web_port, master_port)
        # What the container image itself sets (its ENV lines), under every task's definition and
        # override environment: e.g. where pip finds packages (PIP_INDEX_URL, or a local folder).
        self.image_environment: dict[str, str] = {}
        self.calls: Counter[str] = Counter()  # API calls per operation, as the code under test made them
        self.requests: Counter[str] = Counter()  # HTTP attempts per operation (retries included)
        self._faults: dict[str, list[_Fault]] = defaultdict(list)
        self._tasks: dict[str, StandInTask] = {}
        self._definitions: dict[str, dict[str, Any]] = {}  # task definition ARN -> description
        self._roles: dict[str, str] = {}  # task definition ARN -> role
        self._addresses: set[str] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._stack: ExitStack | None = None
        self._server: _MotoServer | None = None
        self.root: Path | None = None
        self.settings: EcsSettings | None = None
        self.endpoint_url = ""

    # ---- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> EcsStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> EcsStandIn:
        stack = ExitStack()
        self._stack = stack
        try:
            if self._root_arg is None:
                self.root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ecs-standin-")))
            else:
                self.root = self._root_arg
                self.root.mkdir(parents=True, exist_ok=True)
            stack.enter_context(mock_aws())  # see the module doc: holds moto's shared state
            stack.enter_context(groups_held_by_interfaces())
            if state_manager.get_transition("ecs::task") != _MANUAL:
                state_manager.set_transition(model_name="ecs::task", transition=dict(_MANUAL))
                stack.callback(state_manager.unset_transition, "ecs::task")
            self._server = _MotoServer()
            self._server.start()
            stack.callback(self._server.stop)
            host, port = self._server.get_host_and_port()
            self.endpoint_url = f"http://{host}:{port}"
            stack.callback(self._cancel_timers)  # after the tasks have stopped (LIFO)
            stack.callback(self._stop_all_tasks)  # runs before the server stops (LIFO)
            self._make_clients()
            self._provision()
            self._prepare_network()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            stack.close()

    # ---- what tests use ---------------------------------------------------------------------------

    def tasks(self, role: str | None = None) -> list[StandInTask]:
        """Every task started so far (running or not), in start order; `role`: master | worker."""
        with self._lock:
            tasks = list(self._tasks.values())
        return [task for task in tasks if role is None or task.role == role]

    def task(self, arn: str) -> StandInTask:
        with self._lock:
            return self._tasks[arn]

    def kill_task(self, arn: str, signum: int = signal.SIGKILL, *, wait: float = 10.0) -> StandInTask:
        """Signal a task's process group (its container dies), and wait until ECS has noticed."""
        task = self.task(arn)
        task.signal(signum)
        if wait and not task.exited.wait(wait):
            raise TimeoutError(f"task {task.id} still runs {wait:g} s after signal {signum}")
        self._sync_stopped(task)
        return task

    def fail_calls(
        self, operation: str, error_code: str = "ThrottlingException", *, times: int = 1,
        status: int = 400, message: str = "Rate exceeded",
    ) -> None:  # fmt: skip
        """The next `times` HTTP requests of `operation` (e.g. "DescribeTasks"; each retry attempt
        is one request) are answered with this AWS error instead of reaching moto."""
        with self._lock:
            self._faults[operation].append(_Fault(error_code, status, message, times))

    def clear_faults(self, operation: str | None = None) -> None:
        """AWS answers again: the faults of `operation` (or of every operation) are dropped."""
        with self._lock:
            if operation is None:
                self._faults.clear()
            else:
                self._faults.pop(operation, None)

    def wait_until_stopped(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        for task in self.tasks():
            if task.process and not task.exited.wait(max(0.0, deadline - time.monotonic())):
                return False
        return True

    def server_requests(self, method: str | None = None, path_prefix: str = "") -> list[dict[str, str]]:
        """Requests the moto server received (e.g. the master's GET of the presigned script URL)."""
        assert self._server is not None
        return [
            r for r in list(self._server.requests)
            if (method is None or r["method"] == method) and r["path"].startswith(path_prefix)
        ]  # fmt: skip

    # ---- setup ----------------------------------------------------------------------------------

    def _make_clients(self) -> None:
        session = _session()
        endpoint = {"endpoint_url": self.endpoint_url, "region_name": self.region}
        s3_config = Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"mode": "standard", "total_max_attempts": 2})  # fmt: skip
        # What the code under test gets: hooked.
        self.ecs = session.client("ecs", config=self.ecs_config, **endpoint)
        self.s3 = session.client("s3", config=s3_config, **endpoint)
        # moto's own view (no hooks, no counting, no faults): the stand-in's, and tests' to check it.
        self.logs = session.client("logs", config=Config(retries={"mode": "standard", "total_max_attempts": 2}), **endpoint)
        self.moto_ecs = session.client("ecs", **endpoint)
        self.moto_logs = session.client("logs", **endpoint)
        self._moto_s3 = session.client("s3", config=s3_config, **endpoint)
        self._moto_ec2 = session.client("ec2", **endpoint)
        # EC2 for the code under test (a run's own security group): hooked too, and each change
        # to a security group refreshes the network model at once.
        self.ec2 = session.client("ec2", config=Config(retries={"mode": "standard", "total_max_attempts": 2}), **endpoint)
        for client in (self.ecs, self.s3, self.logs, self.ec2):
            self.instrument(client)

    def instrument(self, client: Any) -> None:
        """The stand-in's hooks on a client of its server: calls counted, faults injected, and for
        ECS, tasks started as processes. Also for clients the code under test made itself (e.g.
        from AWS_ENDPOINT_URL_ECS in its environment, tests/support/template_harness.py)."""
        service = client.meta.service_model.service_id.hyphenize()  # ecs, s3, cloudwatch-logs
        events = client.meta.events
        events.register(f"before-call.{service}", self._count_call)
        events.register_first(f"before-send.{service}", self._inject_fault)
        if service == "ecs":
            events.register("after-call.ecs.RunTask", self._after_run_task)
            events.register("after-call.ecs.DescribeTasks", self._after_describe_tasks)
            events.register("after-call.ecs.StopTask", self._after_stop_task)
            events.register("before-parameter-build.ecs.ListTasks", self._before_list_tasks)
        if service == "ec2":
            for operation in _GROUP_CHANGES:
                events.register(f"after-call.ec2.{operation}", self._after_group_change)

    def _provision(self) -> None:
        ec2 = self._moto_ec2
        vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
        # moto's task ENIs need DNS support for their private DNS name, as Fargate VPCs have it.
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.30.1.0/24")["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName="locust-tasks", Description="Locust tasks", VpcId=vpc)["GroupId"]
        # The run_workflow Lambda's group (the template's LambdaSecurityGroupId): the test process,
        # which drives the backend, stands outside the network model (no rule applies to it).
        control_plane = ec2.create_security_group(GroupName="control-plane", Description="run_workflow Lambda", VpcId=vpc)["GroupId"]

        cluster = f"{STACK_NAME}-{uuid.uuid4().hex[:8]}"
        self.moto_ecs.create_cluster(clusterName=cluster)
        definitions = task_definitions_from_template(self.template, stack_name=STACK_NAME)
        arns = {}
        for logical_id, role in ((MASTER_DEFINITION, ROLE_MASTER), (WORKER_DEFINITION, ROLE_WORKER)):
            described = self.moto_ecs.register_task_definition(**_for_moto(definitions[logical_id]))["taskDefinition"]
            arns[role] = described["taskDefinitionArn"]
            self._definitions[arns[role]] = described
            self._roles[arns[role]] = role
            for container in described["containerDefinitions"]:
                log_group = _awslogs(container)[0]
                if log_group and not self.moto_logs.describe_log_groups(logGroupNamePrefix=log_group)["logGroups"]:
                    self.moto_logs.create_log_group(logGroupName=log_group)

        bucket = f"{STACK_NAME}-{uuid.uuid4().hex[:8]}"
        self._moto_s3.create_bucket(Bucket=bucket)
        master_container = definitions[MASTER_DEFINITION]["containerDefinitions"][0]
        declared = [m["containerPort"] for m in master_container.get("portMappings") or []]
        web_port = self._ports[0] or _usable_port(declared[0] if declared else 8089)
        master_port = self._ports[1] or _usable_port(declared[1] if len(declared) > 1 else 5557)
        self.vpc, self.subnet, self.security_group, self.bucket = vpc, subnet, group, bucket
        self.control_plane_group = control_plane
        self.settings = EcsSettings(
            cluster=cluster,
            master_task_definition=arns[ROLE_MASTER],
            worker_task_definition=arns[ROLE_WORKER],
            subnets=(subnet,),
            security_groups=(group,),
            assign_public_ip=False,
            container_name=master_container["name"],
            script_bucket=bucket,
            region=self.region,
            web_port=web_port,
            master_port=master_port,
            vpc_id=vpc,
            control_plane_security_group=control_plane,
            managed_by=STACK_NAME,
        )

    # ---- hooks ------------------------------------------------------------------------------------

    def _count_call(self, event_name: str, **_: Any) -> None:
        self.calls[event_name.rsplit(".", 1)[-1]] += 1

    def _inject_fault(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[-1]
        self.requests[operation] += 1
        with self._lock:
            faults = self._faults.get(operation)
            if not faults:
                return None
            fault = faults[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                faults.pop(0)
        request_id = str(uuid.uuid4())
        if event_name.split(".")[1] == "ec2":  # EC2's query protocol answers errors in XML
            body = (
                f"<Response><Errors><Error><Code>{fault.code}</Code><Message>{fault.message}</Message></Error></Errors>"
                f"<RequestID>{request_id}</RequestID></Response>"
            ).encode()
            content_type = "text/xml"
        elif event_name.split(".")[1] == "s3":
            body = (
                f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{fault.code}</Code>'
                f"<Message>{fault.message}</Message><RequestId>{request_id}</RequestId></Error>"
            ).encode()
            content_type = "application/xml"
        else:
            body = json.dumps({"__type": fault.code, "message": fault.message}).encode()
            content_type = "application/x-amz-json-1.1"
        headers = {"x-amzn-RequestId": request_id, "Content-Type": content_type, "Content-Length": str(len(body))}
        return AWSResponse(request.url, fault.status, headers, _ErrorBody(body))

    def _after_run_task(self, http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        if http_response is None or http_response.status_code >= 300:
            return
        for described in parsed.get("tasks") or []:
            task = self._spawn(described)
            self._rewrite(described, task)

    def _after_describe_tasks(self, http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        if http_response is None or http_response.status_code >= 300:
            return
        for described in parsed.get("tasks") or []:
            task = self._tasks.get(described.get("taskArn", ""))
            if task is not None:
                self._rewrite(described, task)

    def _after_stop_task(self, http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        if http_response is None or http_response.status_code >= 300:
            return
        described = parsed.get("task") or {}
        task = self._tasks.get(described.get("taskArn", ""))
        if task is None:
            return
        with task.lock:
            if not task.stop_reason and not task.exited.is_set():
                task.stop_reason = described.get("stoppedReason") or "Task stopped by user"
        if task.signal(signal.SIGTERM):
            # As ECS: SIGTERM now, SIGKILL once the stop timeout has passed; StopTask doesn't wait.
            killer = threading.Timer(self.stop_grace, task.signal, args=(signal.SIGKILL,))
            killer.daemon = True
            killer.start()
        self._rewrite(described, task)

    def _before_list_tasks(self, **_: Any) -> None:
        for task in self.tasks():
            if task.exited.is_set():
                self._sync_stopped(task)

    # ---- tasks as processes -----------------------------------------------------------------------

    def _spawn(self, described: Mapping[str, Any]) -> StandInTask:
        arn = described["taskArn"]
        definition_arn = described["taskDefinitionArn"]
        definition = self._definition(definition_arn)
        container = definition["containerDefinitions"][0]  # the template declares one container per task
        override = next(
            (o for o in (described.get("overrides") or {}).get("containerOverrides") or [] if o.get("name") == container["name"]),
            {},
        )
        address = self._new_address()
        command = override.get("command") if override.get("command") is not None else container.get("command") or []
        environment = {e["name"]: e["value"] for e in container.get("environment") or []}
        environment.update({e["name"]: e["value"] for e in override.get("environment") or []})
        # The one liberty: every Fargate task has its own network namespace, where 0.0.0.0 means
        # "this task's interfaces". Here tasks share the host's, so a bind to 0.0.0.0 becomes a
        # bind to the task's own loopback address (else two tasks would fight over one port).
        argv = [_own_address(arg, address) for arg in [*(container.get("entryPoint") or []), *command]]
        environment = {name: _own_address(value, address) for name, value in environment.items()}

        directory = self.root / arn.rsplit("/", 1)[-1]
        home, tmp = directory / "home", directory / "tmp"
        home.mkdir(parents=True)
        tmp.mkdir()
        group, prefix = _awslogs(container)
        task = StandInTask(
            arn=arn, role=self._roles.get(definition_arn) or _role_of(definition), address=address,
            cluster=described.get("clusterArn") or self.settings.cluster, directory=directory,
            argv=argv, environment=environment, log_group=group,
            log_stream=f"{prefix}/{container['name']}/{arn.rsplit('/', 1)[-1]}" if group else "",
            eni_id=_eni_of(described),
        )  # fmt: skip
        with self._lock:
            self._tasks[arn] = task
        self._refresh_network()  # before the task's first connection: its interface and groups are in
        base = {
            "PATH": os.environ.get("PATH", os.defpath), "HOME": str(home), "TMPDIR": str(tmp), "LANG": "C.UTF-8",
            "HOSTNAME": f"ip-{address.replace('.', '-')}", "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region, "AWS_EXECUTION_ENV": "AWS_ECS_FARGATE", **self.image_environment,
        }  # fmt: skip
        try:
            if not argv:
                raise FileNotFoundError("the container has neither an entry point nor a command")
            env = {**base, **environment}
            env.update(self._network_env(address, env.get("PYTHONPATH")))
            with open(task.log_path, "ab") as log:
                task.process = subprocess.Popen(
                    _executable(argv), cwd=home, env=env, stdin=subprocess.DEVNULL,
                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip
        except OSError as exc:
            task.start_error = f"CannotStartContainerError: {exc}"
            task.stopped_at = datetime.now(UTC)
            task.exited.set()
            self._sync_stopped(task)
            self._release_interface_later(task)
            return task
        watcher = threading.Thread(target=self._watch, args=(task,), name=f"ecs-standin-{task.id}", daemon=True)
        self._threads.append(watcher)
        watcher.start()
        return task

    def _watch(self, task: StandInTask) -> None:
        assert task.process is not None
        # Wait without reaping: while the leader is a zombie its process group id is still ours.
        try:
            os.waitid(os.P_PID, task.process.pid, os.WEXITED | os.WNOWAIT)
            leader_unreaped = True
        except ChildProcessError:
            leader_unreaped = False  # reaped elsewhere: the group id is no longer safe to signal
        with task.lock:
            if leader_unreaped:
                try:
                    os.killpg(task.process.pid, signal.SIGKILL)  # a container's processes die with its PID 1
                except ProcessLookupError:
                    pass
            code = task.process.wait()
            task.exit_code = 128 - code if code < 0 else code
            task.stopped_at = datetime.now(UTC)
        self._ship_log(task)  # before anyone can see the task stopped
        task.exited.set()
        self._sync_stopped(task)
        self._release_interface_later(task)

    # ---- network (see the module doc) --------------------------------------------------------------

    def network_snapshot(self) -> dict[str, Any]:
        """EC2's view of the tasks, from moto: each live task's address with its interface's private IP
        and security groups, and every group's rules (what tests/support/ecs_standin_network.py reads)."""
        live = [task for task in self.tasks() if task.eni_id and not task.eni_released.is_set()]
        interfaces = {}
        if live:
            filters = [{"Name": "network-interface-id", "Values": [task.eni_id for task in live]}]
            interfaces = {i["NetworkInterfaceId"]: i for i in self._moto_ec2.describe_network_interfaces(Filters=filters)["NetworkInterfaces"]}
        tasks = {}
        for task in live:
            interface = interfaces.get(task.eni_id)
            if interface is not None:
                groups = [g["GroupId"] for g in interface.get("Groups") or []]
                tasks[task.address] = {"task": task.arn, "eni": task.eni_id, "ip": interface.get("PrivateIpAddress"), "groups": groups}
        groups = {g["GroupId"]: rules_of(g) for g in self._moto_ec2.describe_security_groups()["SecurityGroups"]}
        return {"tasks": tasks, "groups": groups}

    def wait_until_interfaces_released(self, timeout: float = 15.0) -> bool:
        """True once every stopped task's network interface is gone from EC2 (as Fargate's are, some
        time after the task stops)."""
        deadline = time.monotonic() + timeout
        for task in self.tasks():
            if task.eni_id and not task.eni_released.wait(max(0.0, deadline - time.monotonic())):
                return False
        return True

    def _prepare_network(self) -> None:
        assert self.root is not None
        self.network_file = self.root / NETWORK_FILE
        if not self.network:
            return
        folder = self.root / NETWORK_PYTHON
        folder.mkdir(exist_ok=True)
        write_sitecustomize(folder)
        self._refresh_network()

    def _network_env(self, address: str, pythonpath: str | None) -> dict[str, str]:
        """What puts a task's processes under the network model: its sitecustomize first on the path."""
        if not self.network or self.root is None:
            return {}
        path = os.pathsep.join(p for p in (str(self.root / NETWORK_PYTHON), pythonpath or "") if p)
        return {"PYTHONPATH": path, NETWORK_ENV: str(self.network_file), ADDRESS_ENV: address}

    def _refresh_network(self) -> None:
        if not self.network or self.root is None:
            return
        # On a thread of its own (a fresh context): this is the stand-in's bookkeeping, not a call of
        # the code under test whose hook may run it (a harness's per-invocation checks stay out).
        worker = threading.Thread(target=self._write_network, name="ecs-standin-network", daemon=True)
        worker.start()
        worker.join()

    def _write_network(self) -> None:
        with self._network_lock:
            try:
                snapshot = self.network_snapshot()
            except (ClientError, BotoCoreError):
                return  # the server is going away with the stand-in
            staged = self.network_file.with_name(self.network_file.name + ".tmp")
            staged.write_text(json.dumps(snapshot, indent=1), encoding="utf-8")
            os.replace(staged, self.network_file)  # a task reads the whole file or the previous one

    def _after_group_change(self, http_response: Any, **_: Any) -> None:
        if http_response is not None and http_response.status_code < 300:
            self._refresh_network()

    def _release_interface_later(self, task: StandInTask) -> None:
        """As Fargate: a stopped task's interface (and its hold on its security groups) goes a little later."""
        if not task.eni_id:
            task.eni_released.set()
            return
        timer = threading.Timer(self.eni_release_delay, self._release_interface, args=(task,))
        timer.daemon = True
        with self._lock:
            self._timers.append(timer)
        timer.start()

    def _release_interface(self, task: StandInTask) -> None:
        try:
            self._moto_ec2.delete_network_interface(NetworkInterfaceId=task.eni_id)
        except (ClientError, BotoCoreError):
            pass  # already gone, or the server is going away with the stand-in
        task.eni_released.set()
        self._refresh_network()

    def _cancel_timers(self) -> None:
        with self._lock:
            timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()

    def _ship_log(self, task: StandInTask) -> None:
        """What the awslogs driver would have shipped: the container's output, one event per line."""
        if not task.log_stream:
            return
        try:
            lines = [line[:100_000] for line in task.log_path.read_text(errors="replace").splitlines() if line.strip()]
        except FileNotFoundError:
            lines = []
        stamp = int(time.time() * 1000)
        try:
            self.moto_logs.create_log_stream(logGroupName=task.log_group, logStreamName=task.log_stream)
            for start in range(0, len(lines), 1000):
                events = [{"timestamp": stamp, "message": line} for line in lines[start : start + 1000]]
                self.moto_logs.put_log_events(logGroupName=task.log_group, logStreamName=task.log_stream, logEvents=events)
        except (ClientError, BotoCoreError):
            pass  # the server is going away with the stand-in

    def _sync_stopped(self, task: StandInTask) -> None:
        """Stop an exited task in moto too (idempotent), so ListTasks and moto agree."""
        if not task.exited.is_set():
            return
        with task.sync_lock:  # held across the call: whoever asks next sees moto already stopped
            if task.synced:
                return
            task.synced = True
            if task.stop_reason:
                return  # StopTask already told moto
            try:
                reason = task.start_error or ESSENTIAL_EXITED_REASON
                self.moto_ecs.stop_task(cluster=task.cluster, task=task.arn, reason=reason[:255])
            except (ClientError, BotoCoreError):
                pass  # the server is going away with the stand-in

    def _rewrite(self, described: dict[str, Any], task: StandInTask) -> None:
        """DescribeTasks (and RunTask / StopTask) as ECS would answer for this process."""
        for attachment in described.get("attachments") or []:
            if attachment.get("type") == "ElasticNetworkInterface":
                for detail in attachment.get("details") or []:
                    if detail.get("name") == "privateIPv4Address":
                        detail["value"] = task.address
                    elif detail.get("name") == "privateDnsName":
                        detail["value"] = f"ip-{task.address.replace('.', '-')}.ec2.internal"
        exited = task.exited.is_set()
        stop_requested = bool(task.stop_reason)
        described["startedAt"] = task.started_at
        # ECS answers a Fargate task's size (CPU units, MiB, as strings): its definition's; moto leaves them out.
        definition = self._definition(described["taskDefinitionArn"]) if described.get("taskDefinitionArn") else {}
        for key in ("cpu", "memory"):
            if definition.get(key) and not described.get(key):
                described[key] = str(definition[key])
        if exited:
            described["lastStatus"] = described["desiredStatus"] = "STOPPED"
            if task.start_error:
                described["stopCode"], described["stoppedReason"] = "TaskFailedToStart", task.start_error
            elif stop_requested:
                described["stopCode"], described["stoppedReason"] = USER_INITIATED, task.stop_reason
            else:
                described["stopCode"], described["stoppedReason"] = ESSENTIAL_EXITED, ESSENTIAL_EXITED_REASON
            described["stoppedAt"] = described["executionStoppedAt"] = task.stopped_at
        elif stop_requested:
            described["lastStatus"], described["desiredStatus"] = "DEACTIVATING", "STOPPED"  # in its grace period
            described["stopCode"], described["stoppedReason"] = USER_INITIATED, task.stop_reason
        else:
            described["lastStatus"] = described["desiredStatus"] = "RUNNING"
            for key in ("stopCode", "stoppedReason", "stoppedAt", "executionStoppedAt", "stoppingAt"):
                described.pop(key, None)
        for container in described.get("containers") or []:
            container["taskArn"] = task.arn
            container["networkInterfaces"] = [
                {"attachmentId": (described.get("attachments") or [{}])[0].get("id", ""), "privateIpv4Address": task.address}
            ]
            container.pop("exitCode", None)
            container.pop("reason", None)
            if exited:
                container["lastStatus"] = "STOPPED"
                if task.start_error:
                    container["reason"] = task.start_error
                elif task.exit_code is not None:
                    container["exitCode"] = task.exit_code
            else:
                container["lastStatus"] = "RUNNING"

    def _definition(self, arn: str) -> dict[str, Any]:
        if arn not in self._definitions:
            self._definitions[arn] = self.moto_ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        return self._definitions[arn]

    def _new_address(self) -> str:
        with self._lock:
            while True:
                address = f"127.{random.randint(1, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
                if address not in self._addresses:
                    self._addresses.add(address)
                    return address

    def _stop_all_tasks(self) -> None:
        tasks = [task for task in self.tasks() if task.process is not None]
        for task in tasks:
            task.signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_grace
        for task in tasks:
            task.exited.wait(max(0.0, deadline - time.monotonic()))
        for task in tasks:
            if not task.exited.is_set():
                task.signal(signal.SIGKILL)
        for thread in self._threads:
            thread.join(timeout=10)


# ---- the template -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _parsed_template(path: Path, mtime: float) -> dict[str, Any]:
    return load_template(path)


def task_definitions_from_template(path: Path = TEMPLATE, *, stack_name: str = STACK_NAME, region: str = "us-east-1") -> dict[str, dict[str, Any]]:
    """RegisterTaskDefinition parameters for every AWS::ECS::TaskDefinition of the template, by
    logical id: family, compatibilities, network mode, cpu/memory, runtime platform and the
    containers' name, image, essential, entry point, command, environment, port mappings and
    ulimits, and their log configuration (a log group's `!Ref` is its name). Parameters take their
    defaults. What needs a deployed stack (roles) is left out: no process of the stand-in uses it."""
    template = copy.deepcopy(_parsed_template(path, path.stat().st_mtime))
    values = {name: str(p.get("Default", "")) for name, p in (template.get("Parameters") or {}).items()}
    values.update({"AWS::StackName": stack_name, "AWS::Region": region, "AWS::AccountId": ACCOUNT_ID, "AWS::Partition": "aws"})

    def render(value: Any) -> Any:
        # `!Ref Name` is its value, `!Sub "text"` the text with ${Name} filled in; other intrinsics
        # (a role's `!GetAtt`) are in no field the stand-in reads.
        name = ref_target(value)
        if name is not None:
            return values.get(name, name)
        if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str) and len(value) == 1:
            return re.sub(r"\$\{([A-Za-z0-9:]+)\}", lambda m: values.get(m.group(1), m.group(0)), value["Fn::Sub"])
        if isinstance(value, list):
            return [render(v) for v in value]
        if isinstance(value, dict):
            return {k: render(v) for k, v in value.items()}
        return value

    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") == "AWS::Logs::LogGroup" and "LogGroupName" in (resource.get("Properties") or {}):
            values[logical_id] = render(resource["Properties"]["LogGroupName"])
    container_keys = ("Name", "Image", "Essential", "EntryPoint", "Command", "Environment", "PortMappings", "Ulimits", "LogConfiguration")
    definitions = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != "AWS::ECS::TaskDefinition":
            continue
        props = resource["Properties"]
        definition = {
            _camel(key): render(props[key])
            for key in ("Family", "RequiresCompatibilities", "NetworkMode", "Cpu", "Memory", "RuntimePlatform")
            if key in props
        }
        definition["containerDefinitions"] = [
            {_camel(key): _camel_keys(render(container[key])) for key in container_keys if key in container}
            for container in props["ContainerDefinitions"]
        ]
        definitions[logical_id] = _camel_keys(definition)
    return definitions


def _for_moto(definition: Mapping[str, Any]) -> dict[str, Any]:
    # moto's RunTask sums container memory even on Fargate (see the module doc).
    containers = []
    for container in definition["containerDefinitions"]:
        if "memory" not in container and "memoryReservation" not in container and definition.get("memory"):
            container = {**container, "memoryReservation": int(definition["memory"])}
        containers.append(container)
    return {**definition, "containerDefinitions": containers}


def _role_of(definition: Mapping[str, Any]) -> str:
    """master | worker, for a task definition registered by someone else: the template's families
    end in -locust-master and -locust-worker."""
    family = str(definition.get("family", ""))
    return next((role for role in (ROLE_MASTER, ROLE_WORKER) if family.endswith(f"-{role}")), "unknown")


def _eni_of(described: Mapping[str, Any]) -> str:
    """The task's network interface id, as RunTask's answer attaches it (moto creates it in EC2)."""
    for attachment in described.get("attachments") or []:
        if attachment.get("type") == "ElasticNetworkInterface":
            for detail in attachment.get("details") or []:
                if detail.get("name") == "networkInterfaceId":
                    return str(detail.get("value") or "")
    return ""


@contextmanager
def groups_held_by_interfaces() -> Iterator[None]:
    """EC2 refuses to delete a security group a network interface still uses, or another group's rule
    names (DependencyViolation); moto deletes it. For the stand-in's life, moto's EC2 (in process and behind the server alike)
    answers as EC2 does, so code that deletes a run's group while Fargate still holds it sees why."""
    from moto.ec2.exceptions import DependencyViolationError
    from moto.ec2.models import EC2Backend

    had_own = "delete_security_group" in EC2Backend.__dict__
    original = EC2Backend.delete_security_group

    def referenced(backend: Any, group_id: str) -> bool:
        others = [g for groups in list(backend.groups.values()) for g in list(groups.values()) if g.id != group_id]
        return any((rule.source_group or {}).get("GroupId") == group_id for g in others for rule in [*g.ingress_rules, *g.egress_rules])

    def delete_security_group(backend: Any, name: str | None = None, group_id: str | None = None) -> None:
        # In use by an interface, or named as the source of another group's rule: EC2 refuses both.
        if group_id and (any(group_id in {g.id for g in eni.group_set} for eni in list(backend.enis.values())) or referenced(backend, group_id)):
            raise DependencyViolationError(f"resource {group_id} has a dependent object")
        return original(backend, name=name, group_id=group_id)

    EC2Backend.delete_security_group = delete_security_group  # type: ignore[method-assign]
    try:
        yield
    finally:
        if had_own:
            EC2Backend.delete_security_group = original  # type: ignore[method-assign]
        else:
            del EC2Backend.delete_security_group


def _awslogs(container: Mapping[str, Any]) -> tuple[str, str]:
    """(group, stream prefix) of a container definition that logs through awslogs, else ("", "")."""
    config = container.get("logConfiguration") or {}
    options = config.get("options") or {}
    if config.get("logDriver") != "awslogs" or not options.get("awslogs-group"):
        return "", ""
    return str(options["awslogs-group"]), str(options.get("awslogs-stream-prefix") or "")


def _camel(key: str) -> str:
    return key[:1].lower() + key[1:]


def _camel_keys(value: Any) -> Any:
    if isinstance(value, list):
        return [_camel_keys(v) for v in value]
    if isinstance(value, dict):
        return {_camel(k): _camel_keys(v) for k, v in value.items()}
    return value


# ---- processes ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _session() -> boto3.Session:
    # Shared for its service-model cache (loading EC2's model alone takes most of a second); hooks
    # are registered on each client, never on the session.
    return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing")


def _executable(argv: list[str]) -> list[str]:
    """What the image would run, from this machine: its `locust`, `python` and `sh`."""
    head, rest = argv[0], argv[1:]
    if head == "locust":
        return [sys.executable, "-m", "locust", *rest]
    if head in ("python", "python3"):
        return [sys.executable, *rest]
    if head == "sh":
        return ["/bin/sh", *rest]
    return argv


def _own_address(value: str, address: str) -> str:
    if value == _ANY_ADDRESS:
        return address
    if value.endswith("=" + _ANY_ADDRESS):
        return value[: -len(_ANY_ADDRESS)] + address
    return value


def _usable_port(declared: int) -> int:
    """The declared port, unless something here holds it on every address (a wildcard bind would
    make every task's bind fail); then a free one."""
    probe = f"127.{random.randint(1, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    for host, port in ((probe, declared), ("127.0.0.1", 0)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise OSError("no free port on loopback")
