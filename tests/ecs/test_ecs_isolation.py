"""One tenant's run cannot reach another's over the network, on the ECS stand-in: runs started through
the API, driven by the real state machine, the real ECS backend creating each launch's own security
group and web secret, and the stand-in enforcing EC2's security group rules between its tasks
(tests/support/ecs_standin_network.py).

Tenant B's locustfile attacks tenant A's running master, whose address the test hands it (as a
scan of the subnet would find it): TCP to its master port and web API, an HTTP /stop, and joining it
as a Locust worker over ZeroMQ. Every attempt fails while A finishes normally. Then A's group is
opened to B's (as a careless extra rule would): TCP connects, and the web API still refuses B
(401): the secret holds on its own. Both runs' groups are gone from EC2 once they end.

Time: A and B run "600 s" on a clock that moves with the wall clock plus what the test skips
(`SkewedClock`): they stay Running whatever the machine's speed, until the test skips to their end.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import pytest
import requests
from support.ecs_standin import STACK_NAME, EcsStandIn
from support.roles import with_role
from support.runs import create_test, start_run, wait_for_status, wait_until_final
from support.scripts import b64

from load_manager.backends.ecs import EcsLocustBackend, private_ipv4_address
from load_manager.ids import use_clock, wall_clock_ms
from load_manager.lifecycle.dispatch import run_step
from load_manager.settings import set_settings
from load_manager.store import get_stores, set_stores
from load_manager_local.api import InProcessApi
from load_manager_local.runtime import WORKFLOW_FUNCTION, LocalRunLifecycle, configure_local_runtime

pytestmark = [pytest.mark.ecs_standin, pytest.mark.slow, pytest.mark.timeout(240)]

USERS = 4
DURATION = 600  # never reached by the wall clock: the test skips to it
TENANT_B = with_role(
    {"sub": "8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d", "email": "bob@example.org", "email_verified": "true", "custom:accountId": "tenant-b"}, "editor"
)
MANAGED = "tag:load-manager:managed-by"

# Run B's locustfile: every half second, from B's worker task, it tries A's master. What happened is
# appended to ~/probes.jsonl (the task's own HOME), one JSON object per attempt.
ATTACKER = '''
import json, os, socket, time

import requests
import zmq.green as zmq
from locust import User, __version__, constant, task
from locust.rpc import Message

A_HOST = {host!r}
PORTS = {{"master": {master_port}, "web": {web_port}}}
OUT = os.path.join(os.path.expanduser("~"), "probes.jsonl")


def record(**fields):
    with open(OUT, "a") as file:
        file.write(json.dumps(fields) + "\\n")


def join_as_worker():
    """Locust's worker handshake on A's master port: a master that got it would hand us its swarm."""
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.IDENTITY, b"intruder")
    sock.setsockopt(zmq.IMMEDIATE, 1)  # queue only to a completed connection: a send says it connected
    sock.connect(f"tcp://{{A_HOST}}:{{PORTS['master']}}")
    try:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                sock.send(Message("client_ready", __version__, "intruder").serialize(), zmq.NOBLOCK)
                return "sent"
            except zmq.Again:
                time.sleep(0.1)
        return "never connected"
    finally:
        sock.close(linger=0)


class Intruder(User):
    wait_time = constant(0.5)
    joins = 0

    @task
    def probe(self):
        for name, port in PORTS.items():
            try:
                socket.create_connection((A_HOST, port), timeout=5).close()
                outcome = "connected"
            except OSError as exc:
                outcome = type(exc).__name__
            record(kind="tcp", port=name, outcome=outcome)
        try:
            outcome = requests.post(f"http://{{A_HOST}}:{{PORTS['web']}}/stop", timeout=5).status_code
        except requests.RequestException as exc:
            outcome = type(exc).__name__
        record(kind="http", port="web", outcome=outcome)
        if Intruder.joins < 2:  # only while the groups hold: once opened, A's swarm must stay A's
            Intruder.joins += 1
            record(kind="zmq", port="master", outcome=join_as_worker())
'''


class SkewedClock:
    """The wall clock, plus the time the test skipped."""

    def __init__(self) -> None:
        self.offset_ms = 0

    def __call__(self) -> int:
        return wall_clock_ms() + self.offset_ms

    def skip(self, seconds: float) -> None:
        self.offset_ms += round(seconds * 1000)


@dataclass
class Runtime:
    client: InProcessApi
    standin: EcsStandIn
    clock: SkewedClock


@pytest.fixture
def runtime(ecs_standin: EcsStandIn, tmp_path, _routes):
    """The local runtime with every run on the ECS backend, whose clients are the stand-in's."""

    def factory(_cluster) -> EcsLocustBackend:
        return EcsLocustBackend(
            ecs_standin.settings, ecs_client=ecs_standin.ecs, s3_client=ecs_standin.s3, logs_client=ecs_standin.logs,
            ec2_client=ecs_standin.ec2, start_timeout=90, swarm_timeout=15, stop_timeout=20, poll_interval=0.2,
            group_delete_timeout=60,
        )  # fmt: skip

    clock = SkewedClock()
    previous = use_clock(clock)
    # A failed test leaves runs active; the runtime's own backend (not this one: no stand-in hooks,
    # so Fargate never releases the interfaces) tears them down at stop, trying each group once.
    configure_local_runtime(tmp_path / "data", default_backend="ecs", ecs={"group_delete_timeout_seconds": 0})
    lifecycle = LocalRunLifecycle().start()
    lifecycle.sfn.register(WORKFLOW_FUNCTION, lambda event, _context: run_step(event, get_stores(), factory))
    try:
        yield Runtime(InProcessApi(routes=_routes), ecs_standin, clock)
    finally:
        lifecycle.stop()
        set_stores(None)
        set_settings(None)
        use_clock(previous)


def probes(standin: EcsStandIn, arn: str) -> list[dict]:
    path = standin.task(arn).directory / "home" / "probes.jsonl"
    try:
        return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]
    except FileNotFoundError:
        return []


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout  # generous: a slowed machine still gets there
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"never: {what}")


def groups_of_task(standin: EcsStandIn, arn: str) -> list[str]:
    task = standin.ecs.describe_tasks(cluster=standin.settings.cluster, tasks=[arn])["tasks"][0]
    eni = next(d["value"] for d in task["attachments"][0]["details"] if d["name"] == "networkInterfaceId")
    interface = standin.ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]
    return [g["GroupId"] for g in interface["Groups"]]


def control_plane_headers(standin: EcsStandIn, run_id: str) -> dict[str, str]:
    """What the backend sends: the launch's secret, which it keeps in S3 beside the bundle."""
    bucket = standin.settings.script_bucket
    listed = standin.s3.list_objects_v2(Bucket=bucket, Prefix=f"scripts/{run_id}/")["Contents"]
    (key,) = [o["Key"] for o in listed if o["Key"].endswith("/web-secret")]
    return {"Authorization": "Bearer " + standin.s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()}


def run_groups(standin: EcsStandIn) -> list[dict]:
    return standin.ec2.describe_security_groups(Filters=[{"Name": MANAGED, "Values": [STACK_NAME]}])["SecurityGroups"]


def test_another_tenants_run_cannot_reach_a_running_master_which_finishes_normally(runtime, target, example_locustfile):
    client, standin, clock = runtime.client, runtime.standin, runtime.clock
    settings = standin.settings

    # Tenant A: a distributed run against the target.
    test_a = create_test(client, example_locustfile, target.url)
    run_a = start_run(client, test_a, targetUsers=USERS, spawnRate=USERS, durationSeconds=DURATION, workers=2)
    wait_for_status(client, run_a["id"], {"Running"}, timeout=120)
    (master_a,) = standin.tasks("master")
    workers_a = standin.tasks("worker")
    described = standin.ecs.describe_tasks(cluster=settings.cluster, tasks=[master_a.arn])["tasks"][0]
    host = private_ipv4_address(described)  # what a scan of the subnet would find
    web_a = f"http://{host}:{settings.web_port}"

    # From outside (this process, not a task), without the secret: refused; with it (the control
    # plane's), answered.
    assert requests.get(f"{web_a}/stats/requests", timeout=5).status_code == 401
    assert requests.post(f"{web_a}/stop", timeout=5).status_code == 401
    assert requests.get(f"{web_a}/stats/requests", headers={"Authorization": "Bearer guessed"}, timeout=5).status_code == 401
    secret = control_plane_headers(standin, run_a["id"])
    assert requests.get(f"{web_a}/stats/requests", headers=secret, timeout=5).json()["state"] in ("spawning", "running")

    # Tenant B: its locustfile goes for A's master.
    script_b = ATTACKER.format(host=host, master_port=settings.master_port, web_port=settings.web_port)
    created = client.request("POST", "/v1/load-tests", body={"name": "intruder", "scriptContent": b64(script_b), "targetUrl": target.url}, claims=TENANT_B)
    assert created.status == 201, created.json()
    started = client.request(
        "POST", f"/v1/load-tests/{created.json()['id']}/runs", claims=TENANT_B,
        body={"targetUsers": 1, "spawnRate": 1, "durationSeconds": DURATION, "workers": 1},
    )  # fmt: skip
    assert started.status in (200, 201), started.json()
    run_b = started.json()
    running_b = wait_for(lambda: _status_in(client, run_b["id"], {"Running", "Finished", "Failed", "Cancelled"}), 120, "B started")
    assert running_b["status"] == "Running", running_b.get("failureReason")
    (worker_b,) = [t for t in standin.tasks("worker") if t not in workers_a]
    (master_b,) = [t for t in standin.tasks("master") if t is not master_a]

    # Each launch has its own group, first on its tasks; the two differ.
    group_a, group_b = groups_of_task(standin, master_a.arn)[0], groups_of_task(standin, master_b.arn)[0]
    assert group_a != group_b
    for task, group in ((master_a, group_a), *((w, group_a) for w in workers_a), (master_b, group_b), (worker_b, group_b)):
        assert groups_of_task(standin, task.arn) == [group, standin.security_group]

    # Every attempt of B fails as dropped packets do; A keeps its two workers and its load.
    def attempts() -> list[dict] | None:
        seen = probes(standin, worker_b.arn)
        kinds = {(p["kind"], p["port"]) for p in seen}
        return seen if {("tcp", "master"), ("tcp", "web"), ("http", "web")} <= kinds and sum(p["kind"] == "zmq" for p in seen) == 2 else None

    blocked = wait_for(attempts, 90, "B tried every way in")
    assert {p["outcome"] for p in blocked if p["kind"] == "tcp"} == {"TimeoutError"}, blocked
    assert {p["outcome"] for p in blocked if p["kind"] == "http"} == {"ConnectTimeout"}, blocked
    assert [p["outcome"] for p in blocked if p["kind"] == "zmq"] == ["never connected"] * 2, blocked
    assert "intruder" not in master_a.log_tail(10_000)
    assert requests.get(f"{web_a}/worker-count", headers=secret, timeout=5).json()["worker_count"] == 2
    assert requests.get(f"{web_a}/stats/requests", headers=secret, timeout=5).json()["state"] in ("spawning", "running")

    # A careless rule opens A's group to B's: TCP now connects, and the web API still refuses B.
    opened = len(probes(standin, worker_b.arn))
    for port in (settings.master_port, settings.web_port):
        standin.ec2.authorize_security_group_ingress(
            GroupId=group_a, IpPermissions=[{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "UserIdGroupPairs": [{"GroupId": group_b}]}]
        )

    def after_opening() -> list[dict] | None:
        later = probes(standin, worker_b.arn)[opened:]
        return later if {(p["kind"], p["port"], p["outcome"]) for p in later} >= {("tcp", "master", "connected"), ("tcp", "web", "connected"), ("http", "web", 401)} else None

    wait_for(after_opening, 60, "B reaching A's ports once opened")
    assert wait_for_status(client, run_a["id"], {"Running"})["status"] == "Running"  # B's /stop was refused

    # Skip to the end of both runs: A finishes with the master's figures and the target's count.
    clock.skip(DURATION)
    final_a = wait_until_final(client, run_a["id"], timeout=120)
    assert final_a["status"] == "Finished", final_a.get("failureReason")
    assert [h["status"] for h in final_a["statusHistory"]] == ["Pending", "Starting", "Running", "Finished"]
    reported, served = final_a["summary"]["totalRequests"], target.total_requests()
    assert reported > 20 and reported <= served <= reported + USERS  # B never sent the target anything
    final_b = wait_for(lambda: _final(client, run_b["id"]), 120, "B final")
    assert final_b["status"] == "Finished", final_b.get("failureReason")

    # Nothing left: no task, and no run group in EC2 once Fargate has released the interfaces.
    assert standin.wait_until_stopped(15)
    assert standin.moto_ecs.list_tasks(cluster=settings.cluster, desiredStatus="RUNNING")["taskArns"] == []
    assert standin.wait_until_interfaces_released(15)
    # A run is Finished before its teardown ends: its group goes once its tasks' interfaces have.
    wait_for(lambda: run_groups(standin) == [], 60, "every run group deleted")
    assert standin.requests["DeleteSecurityGroup"] >= 2


def _status_in(client, run_id: str, statuses: set[str]) -> dict | None:
    run = client.request("GET", f"/v1/runs/{run_id}", claims=TENANT_B).json()
    return run if run["status"] in statuses else None


def _final(client, run_id: str) -> dict | None:
    return _status_in(client, run_id, {"Finished", "Failed", "Cancelled"})


def test_a_group_fargate_still_holds_at_teardown_is_left_and_collected_later(tmp_path, target, example_locustfile):
    from load_manager.backends.base import ClusterSpec
    from load_manager.backends.ecs import collect_leftover_security_groups

    # Fargate slow to release the interfaces; a teardown that waits for them only briefly.
    with EcsStandIn(root=tmp_path / "ecs-tasks", eni_release_delay=4.0) as standin:
        backend = EcsLocustBackend(
            standin.settings, ecs_client=standin.ecs, s3_client=standin.s3, logs_client=standin.logs, ec2_client=standin.ec2,
            start_timeout=60, poll_interval=0.2, group_delete_timeout=0.5,
        )  # fmt: skip
        spec = ClusterSpec(run_id="slow-release", script=example_locustfile, target_url=target.url, users=1, spawn_rate=1, duration_seconds=60, workers=1)
        handle = backend.launch(spec)
        group = handle.details["security_group_id"]
        assert [g["GroupId"] for g in run_groups(standin)] == [group]
        backend.teardown(handle)  # stops the master; its interface holds the group past the wait
        assert standin.wait_until_stopped(15)
        assert [g["GroupId"] for g in run_groups(standin)] == [group]

        def active(run_id: str, launch_id: str) -> bool:
            return False  # the sweeper found the run over

        swept = collect_leftover_security_groups(standin.ec2, STACK_NAME, keep=active, vpc_id=standin.vpc)
        assert (swept.deleted, swept.in_use) == ([], [group])
        assert standin.wait_until_interfaces_released(15)
        swept = collect_leftover_security_groups(standin.ec2, STACK_NAME, keep=active)
        assert (swept.deleted, swept.in_use, swept.failed) == ([group], [], {})
        assert run_groups(standin) == []
