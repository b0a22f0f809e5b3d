"""The ecs backend against moto (ECS, EC2, S3, IAM) and a fake Locust master web API on loopback.

moto's RunTask runs no container and its tasks' IPs lead nowhere, so the test injects a
`master_address_resolver` that answers 127.0.0.1 once moto has attached the master's ENI, and
points the backend's web port at `FakeLocustMaster`: a stdlib HTTP server that speaks the parts of
Locust 2.47's web API the backend uses. Its "connected workers" are the worker tasks moto runs, so
begin really has to start them before the fake reports them. Every server is stopped by its
fixture, whatever the test does.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import subprocess
import sys
import threading
import uuid
import zipfile
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
import requests
from botocore.config import Config
from moto import mock_aws
from moto.moto_api import state_manager
from support.aws import use_moto_credentials

from load_manager.backends.base import (
    ClusterHandle,
    ClusterSpec,
    LocustBackend,
    LocustCrashedError,
    LocustStartError,
)
from load_manager.backends.ecs import (
    EcsLocustBackend,
    EcsSettings,
    private_ipv4_address,
)

pytestmark = pytest.mark.timeout(120)

REGION = "us-east-1"
CLUSTER = "load-manager-test"
BUCKET = "load-manager-test-scripts"
CONTAINER = "locust"
TARGET = "http://target.internal:8080"
SCRIPT = """from locust import HttpUser, between, task


class Shopper(HttpUser):
    wait_time = between(0.1, 0.5)

    @task
    def items(self):
        self.client.get("/items")
"""

# A master's `GET /stats/requests` mid-run, from the payload captured from Locust 2.47 in
# tests/unit/test_locust_stats_parsing.py (MASTER_RUNNING), trimmed to two rows + Aggregated.
RUNNING_STATS: dict[str, Any] = {
    "current_fail_per_sec": 0.0,
    "current_response_time_percentiles": {"response_time_percentile_0.5": 2, "response_time_percentile_0.95": 43},
    "current_rps": 40.25,
    "errors": [],
    "fail_ratio": 0.0,
    "state": "running",
    "stats": [
        {
            "avg_content_length": 930.0, "avg_response_time": 3.2397774142931928, "current_fail_per_sec": 0.0,
            "current_rps": 11.75, "max_response_time": 43.0, "median_response_time": 2, "method": "GET",
            "min_response_time": 1.0, "name": "/items", "num_failures": 0, "num_requests": 70,
            "response_time_percentile_0.95": 3, "response_time_percentile_0.99": 43, "total_fail_per_sec": 0.0,
            "total_rps": 11.85490116463398,
        },
        {
            "avg_content_length": 16.0, "avg_response_time": 52.53634449998117, "current_fail_per_sec": 0.0,
            "current_rps": 1.75, "max_response_time": 54.0, "median_response_time": 52.11390199997368,
            "method": "GET", "min_response_time": 52.0, "name": "/slow", "num_failures": 0, "num_requests": 10,
            "response_time_percentile_0.95": 54, "response_time_percentile_0.99": 54, "total_fail_per_sec": 0.0,
            "total_rps": 1.6935573092334257,
        },
        {
            "avg_content_length": 300.4356846473029, "avg_response_time": 5.1570861120339435,
            "current_fail_per_sec": 0.0, "current_rps": 40.25, "max_response_time": 54.0,
            "median_response_time": 2, "method": "", "min_response_time": 1.0, "name": "Aggregated",
            "num_failures": 0, "num_requests": 241, "response_time_percentile_0.95": 43,
            "response_time_percentile_0.99": 53, "total_fail_per_sec": 0.0, "total_rps": 40.81473115252556,
        },
    ],
    "total_fail_per_sec": 0.0,
    "total_rps": 40.81473115252556,
    "user_count": 5,
}  # fmt: skip
REPORT_HTML = "<!DOCTYPE html><html><head><title>Test Report for locustfile.py</title></head><body>Locust</body></html>"


# ---- a fake Locust master web API ---------------------------------------------------------------


class FakeLocustMaster:
    """`/stats/requests`, `/worker-count`, `/swarm` (form-encoded), `/stop`, `/stats/report`, like Locust's master:
    state ready → running on /swarm (unless `swarm_starts` is False: Locust's "success" for a swarm
    that never starts), running → stopped on /stop. Stats are empty until a swarm ran."""

    def __init__(self, workers_connected: Callable[[], int]):
        self.workers_connected = workers_connected
        self.state = "ready"
        self.swarm_starts = True
        self.swarms: list[dict[str, list[str]]] = []
        self.stops = 0
        self.report_queries: list[dict[str, list[str]]] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, body: str, content_type: str = "application/json") -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                url = urlparse(self.path)
                if url.path == "/stats/requests":
                    self._send(200, json.dumps(fake.stats()))
                elif url.path == "/worker-count":
                    self._send(200, json.dumps({"worker_count": fake.workers_connected()}))
                elif url.path == "/stats/report":
                    fake.report_queries.append(parse_qs(url.query))
                    self._send(200, REPORT_HTML, "text/html")
                else:
                    self._send(404, "{}")

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if self.path == "/swarm":
                    with fake._lock:
                        fake.swarms.append(parse_qs(body))
                        if fake.swarm_starts:
                            fake.state = "running"
                    self._send(200, json.dumps({"success": True, "message": "Swarming started", "host": TARGET}))
                elif self.path == "/stop":
                    with fake._lock:
                        fake.stops += 1
                        fake.state = "stopped"
                    self._send(200, json.dumps({"success": True, "message": "Test stopped"}))
                else:
                    self._send(404, "{}")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._closed = False
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            state = self.state
        if self.swarms:
            payload = copy.deepcopy(RUNNING_STATS)
        else:
            payload = {"state": state, "stats": [], "errors": [], "user_count": 0, "total_rps": 0.0, "fail_ratio": 0.0,
                       "current_rps": 0.0, "current_fail_per_sec": 0.0,
                       "current_response_time_percentiles": {"response_time_percentile_0.5": None,
                                                             "response_time_percentile_0.95": None}}  # fmt: skip
        payload["state"] = state
        payload["worker_count"] = self.workers_connected()
        if state == "stopped":
            payload["user_count"] = 0
        return payload

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


# ---- AWS (moto) ---------------------------------------------------------------------------------


@pytest.fixture
def aws(monkeypatch):
    use_moto_credentials(monkeypatch)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    # moto's tasks otherwise jump to their last state (STOPPED) the first time they are read: keep
    # them RUNNING until StopTask, as a healthy Fargate task stays.
    state_manager.set_transition(model_name="ecs::task", transition={"progression": "manual", "times": 10**9})
    try:
        with mock_aws():
            yield
    finally:
        state_manager.unset_transition("ecs::task")


@pytest.fixture
def infra(aws) -> dict[str, Any]:
    """A VPC with a subnet and security group, an ECS cluster, the two Fargate task definitions
    (as template.yaml defines them), their IAM roles and the scripts bucket."""
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    # As Fargate VPCs usually have it (and moto's task ENIs need it for their private DNS name).
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="locust", Description="Locust tasks", VpcId=vpc)["GroupId"]

    iam = boto3.client("iam", region_name=REGION)
    trust = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    })  # fmt: skip
    execution_role = iam.create_role(RoleName="locust-execution", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    task_role = iam.create_role(RoleName="locust-task", AssumeRolePolicyDocument=trust)["Role"]["Arn"]

    ecs = boto3.client("ecs", region_name=REGION)
    ecs.create_cluster(clusterName=CLUSTER)
    definitions = {}
    for role, port in (("master", 8089), ("worker", None)):
        definitions[role] = ecs.register_task_definition(
            family=f"load-manager-locust-{role}",
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="1024",
            memory="2048",
            executionRoleArn=execution_role,
            taskRoleArn=task_role,
            containerDefinitions=[{
                "name": CONTAINER,
                "image": "locustio/locust:2.47.0",
                "essential": True,
                "cpu": 1024,
                "memory": 2048,  # moto needs container-level memory to "place" a task
                "portMappings": [{"containerPort": p, "protocol": "tcp"} for p in ([port, 5557] if port else [])],
            }],
        )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip

    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    return {
        "vpc": vpc, "subnet": subnet, "security_group": group, "ecs": ecs, "s3": s3, "ec2": ec2,
        "master_task_definition": definitions["master"], "worker_task_definition": definitions["worker"],
    }  # fmt: skip


def _running_workers(ecs) -> list[str]:
    arns = ecs.list_tasks(cluster=CLUSTER, desiredStatus="RUNNING")["taskArns"]
    if not arns:
        return []
    tasks = ecs.describe_tasks(cluster=CLUSTER, tasks=arns, include=["TAGS"])["tasks"]
    return [t["taskArn"] for t in tasks if {"key": "load-manager:role", "value": "worker"} in t.get("tags", [])]


@pytest.fixture
def fake(infra):
    # The fake master "sees" every worker task moto runs, as a real one would once they connect.
    master = FakeLocustMaster(workers_connected=lambda: len(_running_workers(infra["ecs"])))
    try:
        yield master
    finally:
        master.close()


def loopback_resolver(task) -> str | None:
    """Answer loopback once moto has attached the task's ENI (as the real resolver waits for it)."""
    return "127.0.0.1" if private_ipv4_address(task) else None


@pytest.fixture
def settings(infra, fake) -> EcsSettings:
    return EcsSettings(
        cluster=CLUSTER,
        master_task_definition=infra["master_task_definition"],
        worker_task_definition=infra["worker_task_definition"],
        subnets=(infra["subnet"],),
        security_groups=(infra["security_group"],),
        assign_public_ip=False,
        container_name=CONTAINER,
        script_bucket=BUCKET,
        region=REGION,
        web_port=fake.port,
    )


def make_backend(settings: EcsSettings, **kwargs: Any) -> EcsLocustBackend:
    options = dict(
        master_address_resolver=loopback_resolver, start_timeout=10.0, swarm_timeout=1.5, stop_timeout=5.0,
        poll_interval=0.05, settle_seconds=0.0,
    )  # fmt: skip
    options.update(kwargs)
    return EcsLocustBackend(settings, **options)


@pytest.fixture
def backend(settings) -> EcsLocustBackend:
    return make_backend(settings)


@pytest.fixture
def spec() -> ClusterSpec:
    return ClusterSpec(
        run_id=uuid.uuid4().hex, script=SCRIPT, target_url=TARGET, users=20, spawn_rate=5, duration_seconds=600,
        workers=3, env={"TARGET_TOKEN": "abc"},
    )  # fmt: skip


@pytest.fixture
def run_task_calls(aws) -> tuple[list[dict[str, Any]], boto3.Session]:
    """The parameters of every RunTask the backend sends (a botocore event hook: real request
    building, nothing mocked), for what DescribeTasks does not echo (assignPublicIp)."""
    calls: list[dict[str, Any]] = []
    session = boto3.Session(region_name=REGION)
    session.events.register("provide-client-params.ecs.RunTask", lambda params, **_: calls.append(copy.deepcopy(params)))
    return calls, session


def _tasks(ecs, arns) -> dict[str, dict[str, Any]]:
    described = ecs.describe_tasks(cluster=CLUSTER, tasks=list(arns), include=["TAGS"])["tasks"]
    return {t["taskArn"]: t for t in described}


def _run_tasks(ecs, run_id: str, status: str = "RUNNING") -> list[str]:
    return ecs.list_tasks(cluster=CLUSTER, startedBy=run_id[:36], desiredStatus=status)["taskArns"]


def _command(task: dict[str, Any]) -> list[str]:
    (override,) = task["overrides"]["containerOverrides"]
    assert override["name"] == CONTAINER
    return override["command"]


def _tag_map(task: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in task.get("tags", [])}


# ---- tests --------------------------------------------------------------------------------------


def test_is_a_locust_backend(backend):
    assert isinstance(backend, LocustBackend)
    assert backend.name == "ecs"


def stored_bundle(infra, details) -> bytes:
    return infra["s3"].get_object(Bucket=BUCKET, Key=details["script_key"])["Body"].read()


def test_launch_uploads_the_script_and_runs_the_master(settings, infra, spec, run_task_calls):
    calls, session = run_task_calls
    # Injected clients are used as given: S3 must sign with SigV4, as the backend's own client does.
    s3 = session.client("s3", config=Config(signature_version="s3v4"))
    backend = make_backend(settings, ecs_client=session.client("ecs"), s3_client=s3)
    handle = backend.launch(spec)
    try:
        details = handle.details
        assert json.loads(json.dumps(handle.to_dict())) == handle.to_dict()  # stored as JSON by the orchestrator
        assert details["script_bucket"] == BUCKET
        assert details["script_key"].startswith(f"scripts/{spec.run_id}/") and details["script_key"].endswith("/bundle.zip")
        stored = infra["s3"].get_object(Bucket=BUCKET, Key=details["script_key"])
        archive = zipfile.ZipFile(io.BytesIO(stored["Body"].read()))  # the runtime archive: bootstrap + bundle
        assert archive.read("bundle/locustfile.py").decode() == SCRIPT and b"def main(" in archive.read("bootstrap.py")
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["entryPath"] == "locustfile.py" and {"locust", "gevent", "requests"} <= set(manifest["runtimeModules"])
        assert stored["ServerSideEncryption"] == "AES256"

        (master_arn,) = _run_tasks(infra["ecs"], spec.run_id)  # only the master so far: no IP, no workers
        assert details["master_task_arn"] == master_arn and details["worker_task_arns"] == []
        master = _tasks(infra["ecs"], [master_arn])[master_arn]
        assert master["launchType"] == "FARGATE"
        assert master["taskDefinitionArn"] == infra["master_task_definition"]
        assert master["startedBy"] == spec.run_id[:36]
        tags = _tag_map(master)
        assert tags["load-manager:run-id"] == spec.run_id and tags["load-manager:role"] == "master"
        assert tags["load-manager:launch-id"] == details["launch_id"]

        command = _command(master)
        env = {e["name"]: e["value"] for e in master["overrides"]["containerOverrides"][0]["environment"]}
        url = env["LOAD_MANAGER_BUNDLE_URL"]  # what the task definition's loader downloads
        assert details["master_archive_key"] in url and BUCKET in url and "X-Amz-Signature=" in url
        expires = int(parse_qs(urlparse(url).query)["X-Amz-Expires"][0])
        assert expires >= spec.duration_seconds + 600
        # The master's archive is the workers' plus the launch's web secret and its guard (outside
        # bundle/); the secret is nowhere in what DescribeTasks shows.
        mastered = zipfile.ZipFile(io.BytesIO(requests.get(url, timeout=5).content))  # moto serves S3
        secret = infra["s3"].get_object(Bucket=BUCKET, Key=details["web_secret_key"])["Body"].read().decode()
        assert len(secret) >= 40 and mastered.read("web-secret").decode() == secret and b"before_request" in mastered.read("web_guard.py")
        assert {n for n in mastered.namelist() if n.startswith("bundle/")} == {n for n in archive.namelist() if n.startswith("bundle/")}
        assert "web-secret" not in archive.namelist() and secret not in json.dumps(master, default=str) and secret not in json.dumps(details)
        assert command == [
            "--",  # the bootstrap's options end here; Locust's follow (it adds -f <bundle>/<entry>)
            "--master", "--master-bind-host", "0.0.0.0", "--master-bind-port", "5557",
            "--web-host", "0.0.0.0", "--web-port", str(settings.web_port),
            "--expect-workers", "3", "--host", TARGET,
        ]  # fmt: skip
        env = {e["name"]: e["value"] for e in master["overrides"]["containerOverrides"][0]["environment"]}
        assert env["TARGET_TOKEN"] == "abc"

        # Network: the task's ENI is in our subnet, in the launch's own group then ours, without a public IP.
        eni = next(d["value"] for d in master["attachments"][0]["details"] if d["name"] == "networkInterfaceId")
        interface = infra["ec2"].describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]
        assert interface["SubnetId"] == infra["subnet"]
        own = details["security_group_id"]
        assert [g["GroupId"] for g in interface["Groups"]] == [own, infra["security_group"]]
        (call,) = calls
        assert call["networkConfiguration"] == {
            "awsvpcConfiguration": {"subnets": [infra["subnet"]], "securityGroups": [own, infra["security_group"]], "assignPublicIp": "DISABLED"}
        }
        (group,) = infra["ec2"].describe_security_groups(GroupIds=[own])["SecurityGroups"]
        assert group["VpcId"] == infra["vpc"] and {t["Key"]: t["Value"] for t in group["Tags"]} == {
            "load-manager:managed-by": "load-manager", "load-manager:run-id": spec.run_id, "load-manager:launch-id": details["launch_id"],
        }
        # Its workers to its master; nothing else (no control plane group is configured here).
        assert [(r["IpProtocol"], r["FromPort"], [p["GroupId"] for p in r["UserIdGroupPairs"]]) for r in group["IpPermissions"]] == [("tcp", 5557, [own])]
        assert call["count"] == 1 and call["launchType"] == "FARGATE"
    finally:
        backend.teardown(handle)


def test_begin_starts_the_workers_once_then_swarms(backend, infra, fake, spec):
    handle = backend.launch(spec)
    launched = handle.to_dict()  # what the orchestrator stores: recorded before begin
    try:
        backend.begin(handle, spec)

        assert handle.details["master_ip"] == "127.0.0.1"
        master = _tasks(infra["ecs"], [handle.details["master_task_arn"]])[handle.details["master_task_arn"]]
        master_env = {e["name"]: e["value"] for e in master["overrides"]["containerOverrides"][0]["environment"]}
        assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in master_env["LOAD_MANAGER_BUNDLE_URL"]  # the backend's own S3 client signs SigV4
        assert handle.web_url == f"http://127.0.0.1:{fake.port}"
        workers = _running_workers(infra["ecs"])
        assert sorted(workers) == sorted(handle.details["worker_task_arns"]) and len(workers) == 3
        for task in _tasks(infra["ecs"], workers).values():
            assert task["taskDefinitionArn"] == infra["worker_task_definition"]
            assert task["launchType"] == "FARGATE" and task["startedBy"] == spec.run_id[:36]
            assert _command(task) == ["--", "--worker", "--master-host", "127.0.0.1", "--master-port", "5557"]
            worker_env = {e["name"]: e["value"] for e in task["overrides"]["containerOverrides"][0]["environment"]}
            assert handle.details["script_key"] in worker_env["LOAD_MANAGER_BUNDLE_URL"]  # workers get the whole bundle too
            assert _tag_map(task)["load-manager:role"] == "worker"
        assert fake.swarms == [{"user_count": ["20"], "spawn_rate": ["5"], "host": [TARGET]}]  # form-encoded
        assert fake.state == "running"

        # Retried (Step Functions): with the same handle, and with the handle as stored at launch.
        backend.begin(handle, spec)
        backend.begin(ClusterHandle.from_dict(launched), spec)
        assert len(_running_workers(infra["ecs"])) == 3
        assert len(_run_tasks(infra["ecs"], spec.run_id)) == 4
        assert len(fake.swarms) == 1
    finally:
        backend.teardown(handle)


def test_a_retried_begin_counts_workers_started_by_an_attempt_that_timed_out(backend, infra, fake, spec):
    handle = backend.launch(spec)
    stored = handle.to_dict()
    try:
        # The first attempt got as far as starting the workers, then its Lambda timed out (no
        # teardown, nothing recorded beyond the launch handle).
        first = ClusterHandle.from_dict(stored)
        ip = backend._wait_for_master_address(first, deadline=float("inf"))
        backend._ensure_workers(first, spec, ip)
        assert len(_running_workers(infra["ecs"])) == 3 and fake.state == "ready"

        retry = ClusterHandle.from_dict(stored)
        backend.begin(retry, spec)
        assert len(_running_workers(infra["ecs"])) == 3  # found by startedBy + tags, none added
        assert sorted(retry.details["worker_task_arns"]) == sorted(first.details["worker_task_arns"])
        assert len(fake.swarms) == 1 and fake.state == "running"
    finally:
        backend.teardown(ClusterHandle.from_dict(stored))
    assert _run_tasks(infra["ecs"], spec.run_id) == []


def test_more_workers_than_one_run_task_call_starts(backend, infra, fake, spec):
    many = ClusterSpec(**{**spec.__dict__, "workers": 12})
    handle = backend.start(many)
    try:
        assert len(_running_workers(infra["ecs"])) == 12
    finally:
        backend.teardown(handle)


def test_each_worker_task_has_its_own_index_and_a_retry_starts_only_the_missing_ones(backend, infra, fake, spec):
    # Issue 17: each worker knows its index (its data share, its runner.worker_index), so each is a
    # RunTask of its own, tagged with it. A first attempt that got as far as worker 2 only:
    handle = backend.launch(spec)
    try:
        ip = backend._wait_for_master_address(handle, deadline=float("inf"))
        env = {"LOAD_MANAGER_WORKER_INDEX": "2", "LOAD_MANAGER_WORKER_COUNT": "3"}
        backend._run_tasks(handle, "worker", infra["worker_task_definition"], backend._worker_command(ip), env, count=1,
                           extra_tags={"load-manager:worker-index": "2"})  # fmt: skip
        backend._ensure_workers(handle, spec, ip)
        workers = _tasks(infra["ecs"], _running_workers(infra["ecs"]))
        indexes = []
        for task in workers.values():
            env = {e["name"]: e["value"] for e in task["overrides"]["containerOverrides"][0]["environment"]}
            assert env["LOAD_MANAGER_WORKER_COUNT"] == "3" and env["LOAD_MANAGER_WORKER_INDEX"] == _tag_map(task)["load-manager:worker-index"]
            indexes.append(env["LOAD_MANAGER_WORKER_INDEX"])
        assert sorted(indexes) == ["0", "1", "2"], "each index once: the retry started 0 and 1 only"
        master = _tasks(infra["ecs"], [handle.details["master_task_arn"]])[handle.details["master_task_arn"]]
        master_env = {e["name"]: e["value"] for e in master["overrides"]["containerOverrides"][0]["environment"]}
        assert master_env["LOAD_MANAGER_WORKER_COUNT"] == "3" and "LOAD_MANAGER_WORKER_INDEX" not in master_env
    finally:
        backend.teardown(handle)


def test_sample_parses_the_masters_stats(backend, fake, spec):
    handle = backend.launch(spec)
    stored = handle.to_dict()
    try:
        backend.begin(handle, spec)
        for h in (handle, ClusterHandle.from_dict(stored)):  # a launch-time handle finds the IP via ECS
            stats = backend.sample(h)
            assert stats.state == "running" and stats.load_active
            assert stats.worker_count == 3 and stats.user_count == 5
            assert stats.total_requests == 241 and stats.p95_ms == 43 and stats.p99_ms == 53
            assert stats.current_p50_ms == 2 and stats.current_p95_ms == 43
            assert [(e.method, e.name, e.num_requests) for e in stats.endpoints] == [("GET", "/items", 70), ("GET", "/slow", 10)]
        assert backend.status(handle).alive
    finally:
        backend.teardown(handle)


def test_collect_stops_the_load_and_returns_endpoints_and_the_report(backend, fake, spec):
    handle = backend.start(spec)
    try:
        results = backend.collect(handle)
        assert fake.stops == 1 and fake.state == "stopped"
        assert fake.report_queries == [{"download": ["1"]}]
        assert results.html_report == REPORT_HTML
        assert results.aggregated.num_requests == 241 and results.aggregated.p99_ms == 53
        assert [e.name for e in results.endpoints] == ["/items", "/slow"]
        assert results.exit_code is None  # the master still runs at collect time
        backend.stop_load(handle)  # stopping a stopped load is harmless
    finally:
        backend.teardown(handle)


def test_teardown_stops_every_task_and_deletes_the_script(backend, infra, fake, spec):
    handle = backend.launch(spec)
    stored = handle.to_dict()
    backend.begin(handle, spec)
    arns = [handle.details["master_task_arn"], *handle.details["worker_task_arns"]]
    assert len(arns) == 4

    # The handle as stored at launch knows no worker: teardown finds them by startedBy and tags.
    final = backend.teardown(ClusterHandle.from_dict(stored))
    assert not final.alive
    for task in _tasks(infra["ecs"], arns).values():
        assert task["desiredStatus"] == "STOPPED" and task["lastStatus"] == "STOPPED"
    assert _run_tasks(infra["ecs"], spec.run_id) == []
    with pytest.raises(infra["s3"].exceptions.ClientError) as missing:
        infra["s3"].head_object(Bucket=BUCKET, Key=handle.details["script_key"])
    assert missing.value.response["Error"]["Code"] == "404"

    # Idempotent, with either handle.
    assert not backend.teardown(handle).alive
    assert not backend.teardown(ClusterHandle.from_dict(stored)).alive
    assert not backend.status(handle).alive


def test_task_usage_counts_every_task_of_the_launch_by_its_size_stopped_ones_too(settings, infra, fake, spec):
    # Workers of another size than the master's; moto's DescribeTasks says no task's size, so each is
    # read from its task definition (DescribeTaskDefinition), as for a task ECS answers without one.
    bigger = infra["ecs"].register_task_definition(
        family="load-manager-locust-big-worker", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="2048", memory="4096",
        containerDefinitions=[{"name": CONTAINER, "image": "locustio/locust:2.47.0", "essential": True, "memory": 4096}],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    backend = make_backend(dataclasses.replace(settings, worker_task_definition=bigger))
    handle = backend.start(spec)
    stored = ClusterHandle.from_dict(handle.to_dict())
    backend.teardown(handle)
    described = _tasks(infra["ecs"], [handle.details["master_task_arn"], *handle.details["worker_task_arns"]])
    assert all(t["lastStatus"] == "STOPPED" and "cpu" not in t for t in described.values())

    usage = backend.task_usage(stored)
    assert sorted((u.role, u.vcpu, u.memory_gb) for u in usage) == [("master", 1.0, 2.0)] + [("worker", 2.0, 4.0)] * spec.workers
    # A recorded task ECS no longer knows (it forgets stopped ones after about an hour) is still
    # counted, by its role's task definition, without times (the lifecycle gives it the run's own).
    stored.details["worker_task_arns"] = [*stored.details["worker_task_arns"], f"arn:aws:ecs:{REGION}:123456789012:task/{CLUSTER}/{'0' * 32}"]
    again = backend.task_usage(stored)
    assert sorted((u.role, u.vcpu, u.memory_gb) for u in again) == [("master", 1.0, 2.0)] + [("worker", 2.0, 4.0)] * (spec.workers + 1)
    assert again[-1].started_at is None and again[-1].stopped_at is None


def test_teardown_of_a_racing_launch_leaves_the_winner_alone(backend, infra, fake, spec):
    winner = backend.launch(spec)
    loser = backend.launch(spec)  # a concurrent StartRun attempt of the same run
    try:
        backend.begin(winner, spec)
        backend.teardown(loser)
        assert backend.status(winner).alive and not backend.status(loser).alive
        assert len(_run_tasks(infra["ecs"], spec.run_id)) == 1 + spec.workers
        infra["s3"].head_object(Bucket=BUCKET, Key=winner.details["script_key"])  # still there
    finally:
        backend.teardown(winner)
    assert _run_tasks(infra["ecs"], spec.run_id) == []


def test_a_handle_rebuilt_from_the_run_id_alone_still_tears_everything_down(backend, infra, fake, spec):
    handle = backend.start(spec)
    lost = ClusterHandle(backend="ecs", run_id=spec.run_id, web_url="", workers=spec.workers, started_at=0, details={"cluster": CLUSTER})
    backend.teardown(lost)
    assert _run_tasks(infra["ecs"], spec.run_id) == []
    backend.teardown(handle)  # the script object


def test_a_master_that_stops_is_not_alive(backend, infra, fake, spec):
    handle = backend.start(spec)
    try:
        infra["ecs"].stop_task(cluster=CLUSTER, task=handle.details["master_task_arn"], reason="Essential container in task exited")
        status = backend.status(handle)
        assert not status.alive
        assert status.exit_code == 0  # moto's container exit code
        assert "Essential container in task exited" in status.log_tail
        # These task definitions log nowhere: the reason says so instead of a log tail.
        assert status.log_tail.startswith("(no log to read: container locust does not log through awslogs)")
        fake.close()  # the master's web API goes with it
        with pytest.raises(LocustCrashedError) as crashed:
            backend.sample(handle)
        assert "Essential container in task exited" in str(crashed.value)
    finally:
        backend.teardown(handle)
    assert _run_tasks(infra["ecs"], spec.run_id) == []


def test_begin_fails_and_tears_down_when_the_master_stops_during_start(backend, infra, fake, spec):
    handle = backend.launch(spec)
    infra["ecs"].stop_task(cluster=CLUSTER, task=handle.details["master_task_arn"], reason="CannotPullContainerError: pull access denied")
    with pytest.raises(LocustStartError) as failed:
        backend.begin(handle, spec)
    assert "master task stopped" in str(failed.value) and "CannotPullContainerError" in str(failed.value)
    assert _run_tasks(infra["ecs"], spec.run_id) == [] and _running_workers(infra["ecs"]) == []
    assert fake.swarms == []


def test_begin_does_not_trust_swarms_answer(backend, infra, fake, spec):
    fake.swarm_starts = False  # /swarm answers success, the state stays `ready`
    handle = backend.launch(spec)
    with pytest.raises(LocustStartError, match="swarm did not start"):
        backend.begin(handle, spec)
    assert len(fake.swarms) == 1
    assert _run_tasks(infra["ecs"], spec.run_id) == []  # torn down
    with pytest.raises(infra["s3"].exceptions.ClientError):
        infra["s3"].head_object(Bucket=BUCKET, Key=handle.details["script_key"])


def test_begin_fails_when_workers_never_connect(settings, infra, spec):
    lonely = FakeLocustMaster(workers_connected=lambda: 0)
    try:
        backend = make_backend(EcsSettings(**{**settings.__dict__, "web_port": lonely.port}), start_timeout=1.0)
        handle = backend.launch(spec)
        with pytest.raises(LocustStartError, match="3 Locust workers did not connect"):
            backend.begin(handle, spec)
        assert lonely.swarms == []  # a master without its workers never gets /swarm
        assert _run_tasks(infra["ecs"], spec.run_id) == []
    finally:
        lonely.close()


def test_launch_failures_are_start_errors_and_leave_nothing(settings, infra, spec):
    broken = make_backend(EcsSettings(**{**settings.__dict__, "master_task_definition": "no-such-family:1"}))
    with pytest.raises(LocustStartError, match="could not launch Locust"):
        broken.launch(spec)
    assert infra["s3"].list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    assert _run_tasks(infra["ecs"], spec.run_id) == []

    unconfigured = make_backend(EcsSettings(**{**settings.__dict__, "script_bucket": ""}))
    with pytest.raises(LocustStartError, match="SCRIPTS_BUCKET"):
        unconfigured.launch(spec)


def test_settings_from_environment_and_cluster_configuration():
    from load_manager.settings import Settings

    env = {
        "ECS_CLUSTER": "lm", "ECS_MASTER_TASK_DEFINITION": "lm-master:3", "ECS_WORKER_TASK_DEFINITION": "lm-worker:3",
        "ECS_SUBNETS": "subnet-0a, subnet-0b,", "ECS_SECURITY_GROUPS": "sg-01", "ECS_ASSIGN_PUBLIC_IP": "true",
        "SCRIPTS_BUCKET": "lm-artifacts", "AWS_REGION": "eu-west-1",
    }  # fmt: skip
    defaults = Settings.from_env(env).ecs
    settings = EcsSettings.for_cluster(None, defaults)
    assert settings == EcsSettings(
        cluster="lm", master_task_definition="lm-master:3", worker_task_definition="lm-worker:3",
        subnets=("subnet-0a", "subnet-0b"), security_groups=("sg-01",), assign_public_ip=True,
        container_name="locust", script_bucket="lm-artifacts", region="eu-west-1",
        allowed_subnets=("subnet-0a", "subnet-0b"), allowed_security_groups=("sg-01",), allow_public_ip=True,
    )  # fmt: skip
    assert settings.problems() == []
    assert "cluster (ECS_CLUSTER)" in EcsSettings.for_cluster(None, Settings.from_env({}).ecs).problems()

    # A stored cluster configuration wins; the deployment's defaults fill its gaps.
    from load_manager.models.clusters import EcsClusterSettings

    stored = EcsClusterSettings.model_validate({
        "cluster": "team-a", "masterTaskDefinition": "a-master", "workerTaskDefinition": "a-worker",
        "subnets": ["subnet-0c"], "securityGroups": ["sg-0c"],
    })  # fmt: skip
    merged = EcsSettings.for_cluster(stored.model_dump(), defaults)
    assert (merged.cluster, merged.subnets, merged.assign_public_ip) == ("team-a", ("subnet-0c",), False)
    assert merged.script_bucket == "lm-artifacts" and merged.region == "eu-west-1"


def test_backend_for_builds_the_ecs_backend(monkeypatch):
    from load_manager.backends import backend_for
    from load_manager.models.clusters import ClusterConfig, EcsClusterSettings
    from load_manager.settings import Settings, set_settings

    set_settings(Settings.from_env({"ECS_CLUSTER": "from-env", "SCRIPTS_BUCKET": "env-bucket"}))
    try:
        base = {"id": "c1", "account_id": "a", "backend": "ecs", "max_workers": 8, "updated_at": 0, "updated_by": "t"}
        default = backend_for(ClusterConfig(**base))
        assert isinstance(default, EcsLocustBackend) and default.settings.cluster == "from-env"
        ecs = EcsClusterSettings.model_validate({
            "cluster": "team-a", "masterTaskDefinition": "m", "workerTaskDefinition": "w",
            "subnets": ["subnet-01"], "securityGroups": ["sg-01"],
        })  # fmt: skip
        configured = backend_for(ClusterConfig(**base, ecs=ecs))
        assert configured.settings.cluster == "team-a" and configured.settings.script_bucket == "env-bucket"
        assert default._group_delete_timeout == 120  # the workflow waits for Fargate to release a run's group
        set_settings(Settings.from_env({"ECS_CLUSTER": "from-env", "ECS_GROUP_DELETE_TIMEOUT_SECONDS": "0"}))
        assert backend_for(ClusterConfig(**base))._group_delete_timeout == 0  # the sweeper's: one try, the rest next sweep
    finally:
        set_settings(None)


def test_importing_the_backend_does_not_import_boto3():
    layer = Path(__file__).resolve().parents[2] / "layers" / "core"
    code = "import sys, load_manager.backends.ecs; assert 'boto3' not in sys.modules and 'botocore' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": str(layer)}, timeout=60)


# ---- launches found again (lifecycle/launches.py: a launch recorded, never its handle) ---------


def test_a_launch_whose_handle_was_never_recorded_is_found_by_run_and_launch_id_and_adopted(backend, infra, fake, spec):
    spec = dataclasses.replace(spec, launch_id="launch-1")
    launched = backend.launch(spec)  # the caller died here: its handle never reached the store
    try:
        (found,) = backend.find_launches(spec.run_id, "launch-1")
        assert found.launch_id == "launch-1" and found.run_id == spec.run_id
        assert found.details["master_task_arn"] == launched.details["master_task_arn"]
        assert found.details["script_key"] == launched.details["script_key"] and found.details["worker_task_arns"] == []
        assert backend.find_launches(spec.run_id, "launch-2") == [] and backend.find_launches("another-run") == []

        found.workers = spec.workers
        backend.begin(found, spec)  # adopted: the retry begins the cluster that launch started
        assert fake.state == "running" and len(_run_tasks(infra["ecs"], spec.run_id)) == 1 + spec.workers
        (again,) = backend.find_launches(spec.run_id)
        assert sorted(again.details["worker_task_arns"]) == sorted(found.details["worker_task_arns"])
    finally:
        for handle in backend.find_launches(spec.run_id):
            backend.teardown(handle)
    assert _run_tasks(infra["ecs"], spec.run_id) == [] and backend.find_launches(spec.run_id) == []
    with pytest.raises(infra["s3"].exceptions.ClientError):
        infra["s3"].head_object(Bucket=BUCKET, Key=launched.details["script_key"])  # deleted with the found handle


def test_every_launch_of_a_run_is_found_so_the_sweeper_can_end_them_all(backend, infra, fake, spec):
    first = backend.launch(dataclasses.replace(spec, launch_id="first"))
    second = backend.launch(dataclasses.replace(spec, launch_id="second"))
    try:
        found = backend.find_launches(spec.run_id)
        assert [(h.launch_id, h.details["master_task_arn"]) for h in found] == [
            ("first", first.details["master_task_arn"]), ("second", second.details["master_task_arn"]),
        ]
        backend.teardown(found[0])
        assert [h.launch_id for h in backend.find_launches(spec.run_id)] == ["second"]
    finally:
        for handle in (first, second):
            backend.teardown(handle)
