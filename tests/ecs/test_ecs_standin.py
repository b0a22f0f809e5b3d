"""The real `EcsLocustBackend` driving real Locust: a master and two workers started by RunTask on
the ECS stand-in (tests/support/ecs_standin.py), loading the real example target on loopback."""

from __future__ import annotations

import signal
import sys
import time
import uuid

import boto3
import psutil
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws
from support.ecs_standin import (
    ESSENTIAL_EXITED,
    ESSENTIAL_EXITED_REASON,
    USER_INITIATED,
    EcsStandIn,
    StandInTask,
    task_definitions_from_template,
)

from load_manager.backends.base import BackendError, ClusterSpec, LocustCrashedError
from load_manager.backends.bundle_layout import LOADER
from load_manager.backends.ecs import EcsLocustBackend
from load_manager.backends.redaction import SECRET_NAMES_ENV
from load_manager_local.stepfunctions import InProcessStepFunctions

pytestmark = [pytest.mark.ecs_standin, pytest.mark.slow, pytest.mark.timeout(60)]

USERS = 4
# Not ASCII on purpose: the script travels S3 -> master (HTTP, charset from Content-Type) -> workers.
MARK = "# café, naïve, ✓\n"


def make_backend(standin: EcsStandIn, **kwargs) -> EcsLocustBackend:
    options = dict(start_timeout=30.0, swarm_timeout=10.0, stop_timeout=15.0, poll_interval=0.1)
    options.update(kwargs)
    return EcsLocustBackend(standin.settings, ecs_client=standin.ecs, s3_client=standin.s3, logs_client=standin.logs, **options)


def make_spec(script: str, target_url: str, workers: int = 2) -> ClusterSpec:
    return ClusterSpec(
        run_id=uuid.uuid4().hex, script=script, target_url=target_url, users=USERS, spawn_rate=USERS,
        duration_seconds=60, workers=workers,
    )  # fmt: skip


def described(standin: EcsStandIn, arn: str) -> dict:
    return standin.ecs.describe_tasks(cluster=standin.settings.cluster, tasks=[arn])["tasks"][0]


def running_in_moto(standin: EcsStandIn) -> list[str]:
    # Asked without the stand-in's hooks: moto's own state.
    return standin.moto_ecs.list_tasks(cluster=standin.settings.cluster, desiredStatus="RUNNING")["taskArns"]


def processes_of(standin: EcsStandIn) -> list[psutil.Process]:
    found = []
    for task in standin.tasks():
        if task.alive:
            process = psutil.Process(task.pid)
            found += [process, *process.children(recursive=True)]
    return found


def web_headers(standin: EcsStandIn, handle) -> dict[str, str]:
    """What the master's web guard wants: the launch's secret, as the backend keeps it in S3."""
    secret = standin.s3.get_object(Bucket=standin.settings.script_bucket, Key=handle.details["web_secret_key"])["Body"].read().decode()
    return {"Authorization": f"Bearer {secret}"}


def aggregated_row(payload: dict) -> dict:
    return next(row for row in payload["stats"] if row["name"] == "Aggregated")


def test_a_distributed_run_loads_the_target_and_leaves_nothing(ecs_standin, target, example_locustfile):
    standin, script = ecs_standin, example_locustfile + MARK
    # A swarm confirmed within 1.5 s: begin must not have read Locust's 2 s memoized /stats/requests
    # just before /swarm (its stale "ready" would outlive the timeout).
    backend = make_backend(standin, swarm_timeout=1.5)
    spec = make_spec(script, target.url)
    handle = backend.launch(spec)
    try:
        backend.begin(handle, spec)
        (master,) = standin.tasks("master")
        workers = standin.tasks("worker")
        assert len(workers) == 2 and all(task.alive for task in standin.tasks())
        processes = processes_of(standin)

        # The backend found the master by the address DescribeTasks reports, the task's own.
        assert handle.web_url == f"http://{master.address}:{standin.settings.web_port}"
        # DescribeTasks says each task's size as ECS does (CPU units, MiB: its definition's) and when it started.
        definition = standin.moto_ecs.describe_task_definition(taskDefinition=described(standin, master.arn)["taskDefinitionArn"])["taskDefinition"]
        assert (described(standin, master.arn)["cpu"], described(standin, master.arn)["memory"]) == (definition["cpu"], definition["memory"])
        assert described(standin, workers[0].arn)["startedAt"] == workers[0].started_at and "stoppedAt" not in described(standin, workers[0].arn)
        assert len({task.address for task in standin.tasks()}) == 3
        assert "0.0.0.0" not in master.argv and master.argv.count(master.address) == 2  # web + master bind
        assert master.argv[:3] == ["python", "-c", LOADER] and master.argv[3:5] == ["--", "--master"]
        for worker in workers:
            assert worker.argv[:5] == ["python", "-c", LOADER, "--", "--worker"]
            assert worker.argv[worker.argv.index("--master-host") + 1] == master.address

        # Every task downloaded the bundle from the presigned URL (the moto server saw each loader's
        # GET) and unpacked it into a folder of its own TMPDIR, where Locust runs. The master has an
        # archive of its own (with the web secret), deleted once begin is done.
        bucket = standin.settings.script_bucket
        downloads = standin.server_requests("GET", f"/{bucket}/{handle.details['script_key']}")
        master_downloads = standin.server_requests("GET", f"/{bucket}/{handle.details['master_archive_key']}")
        assert len(downloads) == 2 and len(master_downloads) == 1
        assert all("X-Amz-Signature=" in d["query"] and d["user_agent"].startswith("Python-urllib") for d in downloads + master_downloads)
        with pytest.raises(ClientError):
            standin.s3.head_object(Bucket=bucket, Key=handle.details["master_archive_key"])
        for task in (master, *workers):
            (unpacked,) = (task.directory / "tmp").glob(f"bundle-*/{spec.script_name}")
            assert unpacked.read_text(encoding="utf-8") == script

        calls = sum(standin.calls.values())
        samples, deadline = [], time.monotonic() + 60  # generous: a slowed machine still gets there
        while len(samples) < 3 or samples[-1].total_requests == 0:  # workers report every 3 s
            assert time.monotonic() < deadline, samples[-1]
            time.sleep(0.5)
            samples.append(backend.sample(handle))
        assert sum(standin.calls.values()) == calls  # a poll of a known master costs no AWS call
        assert all(s.load_active and s.worker_count == 2 for s in samples), samples
        assert samples[-1].state == "running" and samples[-1].user_count == USERS and samples[-1].total_requests > 0

        results = backend.collect(handle)
        reported, served = results.aggregated.num_requests, target.total_requests()
        # In flight when the load stopped: served but never reported, at most one per user.
        assert reported <= served <= reported + USERS, (reported, served)
        # Percentiles are the master's (merged from both workers' histograms), as it serves them.
        master_row = aggregated_row(requests.get(f"{handle.web_url}/stats/requests", headers=web_headers(standin, handle), timeout=5).json())
        assert master_row["num_requests"] == reported
        assert results.aggregated.p95_ms == master_row["response_time_percentile_0.95"] > 0
        assert results.aggregated.p99_ms == master_row["response_time_percentile_0.99"]
        assert results.html_report and "<html" in results.html_report.lower()
    finally:
        final = backend.teardown(handle)

    assert not final.alive
    assert standin.wait_until_stopped(10)
    assert not [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert running_in_moto(standin) == []
    assert described(standin, master.arn)["stopCode"] == USER_INITIATED
    with pytest.raises(ClientError) as missing:
        standin.s3.head_object(Bucket=standin.settings.script_bucket, Key=handle.details["script_key"])
    assert missing.value.response["Error"]["Code"] == "404"


def test_a_killed_worker_is_a_stopped_task_with_exit_code_137_and_the_cluster_is_no_longer_alive(ecs_standin, target, example_locustfile):
    standin = ecs_standin
    backend, spec = make_backend(standin), make_spec(example_locustfile, target.url)
    handle = backend.start(spec)
    try:
        worker = standin.tasks("worker")[0]
        standin.kill_task(worker.arn, signal.SIGKILL)

        task = described(standin, worker.arn)
        assert (task["lastStatus"], task["desiredStatus"]) == ("STOPPED", "STOPPED")
        assert (task["stopCode"], task["stoppedReason"]) == (ESSENTIAL_EXITED, ESSENTIAL_EXITED_REASON)
        (container,) = task["containers"]
        assert container["exitCode"] == 137 and container["lastStatus"] == "STOPPED"
        assert worker.arn not in running_in_moto(standin) and len(running_in_moto(standin)) == 2
        # Locust's master would carry on with fewer users: for the run that is a broken cluster.
        status = backend.status(handle)
        assert not status.alive and status.exit_code == 137
        assert status.reason == f"Locust worker task {worker.arn.rsplit('/', 1)[-1]} stopped"
        # Its output was shipped to its awslogs stream before ECS said it stopped, and read back.
        assert worker.log_stream == f"worker/locust/{worker.id}"
        shipped = standin.moto_logs.get_log_events(logGroupName=worker.log_group, logStreamName=worker.log_stream)["events"]
        assert [e["message"] for e in shipped] == [line for line in worker.log_tail(10_000).splitlines() if line.strip()]
        assert shipped[-1]["message"] in status.log_tail and "could not read" not in status.log_tail

        (master,) = standin.tasks("master")
        standin.kill_task(master.arn, signal.SIGKILL)
        status = backend.status(handle)
        assert not status.alive and status.exit_code == 137
        with pytest.raises(LocustCrashedError, match=r"exit code 137"):
            backend.sample(handle)
    finally:
        backend.teardown(handle)
    assert standin.wait_until_stopped(10)
    assert running_in_moto(standin) == []


def test_throttled_describe_tasks_surfaces_as_the_aws_error_after_retries(ecs_standin):
    standin = ecs_standin
    backend = make_backend(standin)
    handle = backend.launch(make_spec("from locust import HttpUser\n\n\nclass U(HttpUser):\n    pass\n", "http://127.0.0.1:9"))
    try:
        assert standin.ecs.meta.config.retries["total_max_attempts"] == 2
        before = standin.requests["DescribeTasks"]
        standin.fail_calls("DescribeTasks", "ThrottlingException", times=2)
        with pytest.raises(BackendError) as raised:
            backend.status(handle)
        assert getattr(raised.value, "code", None) == "ThrottlingException"
        assert "Rate exceeded" in str(raised.value)
        assert standin.requests["DescribeTasks"] - before == 2  # botocore retried once, as configured

        standin.fail_calls("DescribeTasks", times=1)
        assert backend.status(handle).alive  # one throttle: botocore's retry absorbs it
        assert standin.requests["DescribeTasks"] - before == 4
    finally:
        backend.teardown(handle)


def test_the_registered_task_definitions_are_the_templates(ecs_standin):
    standin = ecs_standin
    declared = task_definitions_from_template()
    for arn, logical_id in (
        (standin.settings.master_task_definition, "LocustMasterTaskDefinition"),
        (standin.settings.worker_task_definition, "LocustWorkerTaskDefinition"),
    ):
        registered = standin.moto_ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        (container,) = registered["containerDefinitions"]
        (expected,) = declared[logical_id]["containerDefinitions"]
        assert container["entryPoint"] == ["python", "-c", LOADER]
        assert container["image"].startswith("locustio/locust:")
        for key in ("name", "image", "entryPoint", "environment", "portMappings", "logConfiguration"):
            assert (container.get(key) or None) == expected.get(key), key  # moto says [] for "none"
        assert registered["networkMode"] == "awsvpc" and registered["requiresCompatibilities"] == ["FARGATE"]
        group = container["logConfiguration"]["options"]["awslogs-group"]
        assert [g["logGroupName"] for g in standin.moto_logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]] == [group]
    assert standin.settings.container_name == "locust"


def test_the_standin_lives_with_an_in_process_mock_aws(tmp_path):
    with mock_aws():
        with EcsStandIn(root=tmp_path / "inner") as standin:
            # The endpoint client goes over HTTP to the server, not into mock_aws's stubber.
            seen = len(standin.server_requests("POST"))
            standin.ecs.list_clusters()
            assert len(standin.server_requests("POST")) == seen + 1
            with InProcessStepFunctions():  # enters (nests into) mock_aws, as the lifecycle tests do
                backend = make_backend(standin)
                handle = backend.launch(make_spec("from locust import HttpUser\n\n\nclass U(HttpUser):\n    pass\n", "http://127.0.0.1:9"))
                try:
                    (master,) = standin.tasks("master")
                    assert described(standin, master.arn)["lastStatus"] == "RUNNING" and master.alive
                finally:
                    backend.teardown(handle)
            # Leaving the nested mock wiped nothing of the stand-in's.
            clusters = standin.moto_ecs.describe_clusters(clusters=[standin.settings.cluster])["clusters"]
            assert [c["status"] for c in clusters] == ["ACTIVE"]
            assert standin.wait_until_stopped(10)
            endpoint = standin.endpoint_url
        # And with the server gone, a client of its endpoint fails: nothing answered it in process.
        stray = boto3.client("ecs", region_name="us-east-1", endpoint_url=endpoint, config=Config(retries={"max_attempts": 1}))
        with pytest.raises(EndpointConnectionError):
            stray.list_clusters()


def register(standin: EcsStandIn, family: str, **container) -> str:
    return standin.moto_ecs.register_task_definition(
        family=family, requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
        containerDefinitions=[{"name": "app", "image": "python:3.11", "essential": True, "memoryReservation": 512, **container}],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip


def run(standin: EcsStandIn, definition: str, **override) -> StandInTask:
    (task,) = standin.ecs.run_task(
        cluster=standin.settings.cluster, taskDefinition=definition, launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [standin.subnet], "securityGroups": [standin.security_group]}},
        overrides={"containerOverrides": [{"name": "app", **override}]} if override else {},
    )["tasks"]  # fmt: skip
    return standin.task(task["taskArn"])


def test_a_task_runs_its_entry_point_command_and_environment_as_fargate_would(ecs_standin):
    standin = ecs_standin
    shell = register(
        standin, "bootstrap", entryPoint=["sh", "-c"], command=["exit 9"],
        environment=[{"name": "FROM_DEFINITION", "value": "d"}, {"name": "BOTH", "value": "definition"}],
    )  # fmt: skip
    script = 'echo "$FROM_DEFINITION $BOTH $FROM_OVERRIDE $TMPDIR $HOME $(pwd)"; exit 3'
    ran = run(standin, shell, command=[script], environment=[{"name": "FROM_OVERRIDE", "value": "o"}, {"name": "BOTH", "value": "override"}])
    assert ran.argv == ["sh", "-c", script]  # the override's command replaced the definition's
    python = run(standin, register(standin, "python", entryPoint=["python3", "-c"], command=["import sys; print(sys.executable)"]))

    assert ran.exited.wait(10) and python.exited.wait(10)
    home, tmp = ran.directory / "home", ran.directory / "tmp"
    assert ran.log_tail() == f"d override o {tmp} {home} {home}"
    assert python.log_tail() == sys.executable and python.exit_code == 0
    stopped = described(standin, ran.arn)
    assert (stopped["lastStatus"], stopped["stopCode"]) == ("STOPPED", ESSENTIAL_EXITED)
    assert stopped["containers"][0]["exitCode"] == 3
    assert standin.ecs.list_tasks(cluster=standin.settings.cluster, desiredStatus="RUNNING")["taskArns"] == []
    assert running_in_moto(standin) == []


BUNDLE_ENTRY = "import os\n\nfrom common.users import CheckoutUser  # noqa: F401\n\nprint('bundle loaded with', os.environ['API_TOKEN'], flush=True)\n"
TOKEN = "tok-5d1c8e3a7b9f2046"  # a secret of the run: in the task's environment, and in the folder pip finds its wheel in
BUNDLE_USERS = '''import csv
import os

import lm_ecs_paths
from locust import HttpUser, constant, task

with open(os.path.join(os.path.dirname(__file__), "..", "data", "users.csv")) as file:
    ITEMS = [row["item"] for row in csv.DictReader(file)]


class CheckoutUser(HttpUser):
    wait_time = constant(0.1)

    @task
    def buy(self):
        for item in ITEMS:
            self.client.get(f"/items/{item}", name="/items/[id]")
        self.client.get(lm_ecs_paths.CATALOGUE)
'''


def test_master_and_workers_run_the_whole_bundle_with_its_requirements(ecs_standin, target, tmp_path):
    """Every task downloads the same bundle, unpacks it, installs requirements.txt (a wheel built
    here, pip offline), and Locust's workers import the bundle's module and read its data file. The
    run has a secret: what each task writes (container.log, what CloudWatch Logs would hold) shows
    pip's and the locustfile's lines with it masked; each worker task measures itself for the master
    (generator usage: windows of its own, not Locust's 10 s heartbeat)."""
    from support.wheels import build_wheel

    standin = ecs_standin
    wheels = build_wheel(tmp_path / "wheels" / TOKEN, "lm-ecs-paths", "1.0", 'CATALOGUE = "/items"\n').parent
    files = {
        "common/__init__.py": b"", "common/users.py": BUNDLE_USERS.encode(), "data/users.csv": b"name,item\nann,3\nbob,5\n",
        # pip expands ${API_TOKEN} and prints the folder it looks in ("Looking in links: ...").
        "requirements.txt": f"--find-links {wheels.parent}/${{API_TOKEN}}\nlm-ecs-paths==1.0\n".encode(),
    }  # fmt: skip
    spec = ClusterSpec(
        run_id=uuid.uuid4().hex, script=BUNDLE_ENTRY, files=files, target_url=target.url, users=USERS, spawn_rate=USERS,
        duration_seconds=60, workers=2, env={"PIP_NO_INDEX": "1"}, run_env={"API_TOKEN": TOKEN, SECRET_NAMES_ENV: "API_TOKEN"},
    )  # fmt: skip
    backend = make_backend(standin)
    handle = backend.start(spec)
    try:
        deadline = time.monotonic() + 90
        while target.stats()["byPath"].get("/items", 0) == 0 or target.stats()["byPath"].get("/items/{id}", 0) == 0:
            assert time.monotonic() < deadline, target.stats()
            time.sleep(0.3)
        for task in standin.tasks():
            (unpacked,) = (task.directory / "tmp").glob("bundle-*")
            assert (unpacked / "data" / "users.csv").read_bytes() == files["data/users.csv"]
            assert "building the environment" in task.log_tail(200)  # each Fargate task installs for itself
        assert backend.sample(handle).worker_count == 2
        measured: set[str] = set()  # worker tasks whose own readings (a window, not a heartbeat) reached the master
        deadline = time.monotonic() + 60
        while len(measured) < 2 and time.monotonic() < deadline:
            measured |= {g.id for g in backend.sample(handle).generators if g.role == "worker" and g.window_seconds is not None}
            time.sleep(0.5)
        assert len(measured) == 2, measured
    finally:
        backend.teardown(handle)
    for task in standin.tasks():
        log = task.log_path.read_text(errors="replace")
        assert TOKEN not in log, log
        assert f"Looking in links: {wheels.parent}/***" in log and "bundle loaded with ***" in log, log
