"""The sweeper ends what no execution drives, within one sweep: a run left Pending by a request that
died before StartExecution (started again while young, failed when too old, cancelled when stopped),
a run whose execution ended, a run past its deadline that nothing drives; it sends what is left
in outboxes; and it tears down the clusters ended runs left behind (a teardown that failed). Real
use cases and steps on SQLite, the real ASL walked (support.asl), a fake backend, Step Functions
faked by name (support.crash_points.FakeStepFunctions)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws
from support.aws import use_moto_credentials
from support.clock import FakeClock, installed
from support.crash_points import CrashingBackend, CrashPlan, FakeStepFunctions, RecordingBus, crashing_stores, invoke_with_retries, lifecycle_handler
from support.ecs_standin import groups_held_by_interfaces
from support.fake_backend import FakeBackend
from support.lifecycle import CALLER
from support.scripts import SIMPLE, b64

from load_manager.adapters.eventbridge import set_publisher
from load_manager.backends.base import ClusterSpec
from load_manager.backends.ecs.network import RunGroupSpec, create_run_group
from load_manager.errors import RunActiveError
from load_manager.ids import new_id
from load_manager.lifecycle import steps, sweeper
from load_manager.lifecycle.dispatch import run_step
from load_manager.lifecycle.sweeper import GRACE_SECONDS, OUTBOX_GRACE_SECONDS, RESTART_WINDOW_SECONDS, sweep
from load_manager.models.automation import CreateScheduleRequest
from load_manager.models.load_tests import CreateLoadTestRequest
from load_manager.models.runs import StartRunRequest
from load_manager.usecases import firing, load_tests, runs, schedules

pytestmark = pytest.mark.usefixtures("fast_settings")


class _Schedules:
    def put(self, definition) -> None: ...

    def delete(self, name) -> None: ...


class World:
    """One tenant's test with a schedule, Step Functions, a backend, a bus, and a clock."""

    def __init__(self, stores, clock: FakeClock):
        self.stores, self.clock = stores, clock
        self.plan = CrashPlan()
        self.backend = CrashingBackend(FakeBackend(), self.plan)
        self.bus = RecordingBus(self.plan)
        self.sfn = FakeStepFunctions(self.plan, lifecycle_handler(stores, self.backend, self.plan, None))
        request = CreateLoadTestRequest.model_validate({"name": "swept", "scriptContent": b64(SIMPLE), "targetUrl": "http://127.0.0.1:9"})
        self.test = load_tests.create(stores, CALLER, request)
        body = {"name": "hourly", "cron": "0 * * * *", "runSettings": {"durationSeconds": 2}}
        self.schedule = schedules.create(stores, _Schedules, CALLER, self.test.id, CreateScheduleRequest.model_validate(body))

    def request_dying_after_insert(self):
        """POST …/runs whose Lambda dies right after the run is stored, before StartExecution."""
        plan = CrashPlan(crash_after="runs.insert")
        crashing = crashing_stores(self.stores, plan)
        request = StartRunRequest.model_validate({"durationSeconds": 2})
        invoke_with_retries(plan, lambda: runs.start_run(crashing, lambda: self.sfn, CALLER, self.test.id, request, None), attempts=1)
        assert plan.crashed == "runs.insert"
        (run,) = self.stores.runs.list(CALLER.account_id, self.test.id, status=None, limit=10, after=None)
        assert run.status == "Pending" and run.id not in self.sfn.executions
        return run

    def occurrence(self) -> dict:
        at = datetime.fromtimestamp(self.clock.ms // 3_600_000 * 3600, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        payload = {"loadManagerSchedule": schedules.reference(self.schedule), "scheduledTime": at, "executionId": "x", "attempt": "1"}
        return firing.handle(self.stores, lambda: self.sfn, payload)

    def sweep(self):
        return sweep(self.stores, self.backend.factory, self.sfn)

    def run(self, run_id: str):
        return self.stores.runs.get(CALLER.account_id, run_id)

    def running(self):
        """A run its execution started and left Running (its later steps are not walked)."""
        created, _ = runs.start_run(self.stores, lambda: self.sfn, CALLER, self.test.id, StartRunRequest.model_validate({"durationSeconds": 600}), None)
        self.sfn.queue.clear()
        run_step({"action": "start", "runId": created.id, "accountId": created.account_id}, self.stores, self.backend.factory)
        assert self.run(created.id).status == "Running"
        return self.run(created.id)

    def failed_with_its_cluster_left(self):
        """A run MarkFailed ended while its teardown failed (MarkFailed logs that and moves on)."""
        run = self.running()
        fake = self.backend.backend

        def refuse(handle) -> None:
            raise RuntimeError("StopTask: ThrottlingException after retries")

        fake.on_teardown = refuse
        try:
            run_step({"action": "fail", "runId": run.id, "accountId": run.account_id, "error": {"Error": "X", "Cause": "y"}}, self.stores, self.backend.factory)
        finally:
            fake.on_teardown = None
        assert self.run(run.id).status == "Failed"
        (cluster,) = [c for c in fake.live_clusters() if c.handle.run_id == run.id]
        return self.run(run.id), cluster


@pytest.fixture
def world(stores):
    with installed(FakeClock()) as clock:
        world = World(stores, clock)
        set_publisher(world.bus)
        try:
            yield world
        finally:
            set_publisher(None)


def test_a_run_left_pending_without_an_execution_blocks_until_one_sweep_starts_it_and_it_finishes(world):
    run = world.request_dying_after_insert()
    # What it did before the sweeper: every occurrence skipped, stop and delete powerless.
    skipped = world.occurrence()
    assert skipped["outcome"] == "skipped" and f"previous run {run.id}" in skipped["reason"] and "Pending" in skipped["reason"]
    with pytest.raises(RunActiveError):
        load_tests.delete(world.stores, CALLER, world.test.id)
    world.clock.advance(GRACE_SECONDS - 1)
    assert world.sweep().started == [] and world.run(run.id).status == "Pending"  # too young: its request may still be at work

    world.clock.advance(2)
    report = world.sweep()
    assert report.started == [run.id] and report.failed == []
    assert world.run(run.id).execution_arn.endswith(f":{run.id}")
    (execution,) = world.sfn.run_pending(world.clock)
    final = world.run(run.id)
    assert execution.status == "SUCCEEDED" and final.status == "Finished"
    assert [kind for kind, _ in world.bus.deliveries] == ["RunStarted", "RunFinished"]
    assert not world.backend.backend.live_clusters()
    # It no longer blocks the schedule, nor the test's deletion.
    world.clock.advance(3600)
    assert world.occurrence()["outcome"] == "started"
    world.sfn.run_pending(world.clock)
    load_tests.delete(world.stores, CALLER, world.test.id)


def test_a_run_left_pending_too_long_is_failed_with_a_reason_within_one_sweep(world):
    run = world.request_dying_after_insert()
    world.clock.advance(RESTART_WINDOW_SECONDS + 1)  # e.g. the sweeper itself could not run for a while
    report = world.sweep()
    assert report.failed == [run.id] and report.started == [] and world.sfn.executions == {}
    failed = world.run(run.id)
    assert failed.status == "Failed" and failed.ended_at is not None
    assert failed.failure_reason.startswith("RunAbandoned: its workflow never started") and "sweeper" in failed.failure_reason
    assert failed.status_history[-1].actor == "system" and failed.status_history[-1].reason == failed.failure_reason
    ((kind, detail),) = world.bus.deliveries
    assert (kind, detail["status"], detail["eventId"]) == ("RunFinished", "Failed", f"{run.id}:RunFinished")
    assert world.occurrence()["outcome"] == "started"  # the schedule goes on
    world.sfn.run_pending(world.clock)
    load_tests.delete(world.stores, CALLER, world.test.id)


def test_a_pending_run_someone_stopped_is_cancelled_by_them(world):
    run = world.request_dying_after_insert()
    stopper = dataclasses.replace(CALLER, subject="u2", email="sre@example.com")
    runs.stop_run(world.stores, stopper, run.id)
    assert world.run(run.id).status == "Pending"  # stop alone cannot end it: no workflow acts on it
    world.clock.advance(GRACE_SECONDS + 1)
    assert world.sweep().cancelled == [run.id]
    cancelled = world.run(run.id)
    assert cancelled.status == "Cancelled" and cancelled.status_history[-1].actor == stopper.actor
    assert [(k, d["status"]) for k, d in world.bus.deliveries] == [("RunFinished", "Cancelled")]
    assert world.sfn.executions == {}


def test_a_run_whose_execution_ended_is_failed_and_everything_it_launched_torn_down(world):
    created, _ = runs.start_run(world.stores, lambda: world.sfn, CALLER, world.test.id, StartRunRequest.model_validate({"durationSeconds": 600}), None)
    world.sfn.queue.clear()  # the execution runs StartRun only, then ends (stopped by hand, say)
    run_step({"action": "start", "runId": created.id, "accountId": created.account_id}, world.stores, world.backend.factory)
    world.sfn.executions[created.id]["status"] = "ABORTED"
    fake = world.backend.backend
    stray = fake.launch(steps._spec(world.stores, world.run(created.id), world.stores.revisions.get("acct", world.test.id, created.script_revision_id)))
    assert len(fake.live_clusters()) == 2 and world.run(created.id).status == "Running"  # a racing attempt's cluster too

    world.clock.advance(GRACE_SECONDS + 1)
    report = world.sweep()
    assert report.failed == [created.id]
    failed = world.run(created.id)
    assert failed.status == "Failed" and "execution ended (ABORTED)" in failed.failure_reason
    assert fake.live_clusters() == [] and fake.clusters[stray.details["fake_key"]].torn_down
    assert [k for k, _ in world.bus.deliveries] == ["RunStarted", "RunFinished"]


def test_a_run_nothing_drives_is_left_alone_until_its_deadline(world):
    # Locally, another `serve` on the same data directory drives runs this one's Step Functions
    # does not know: only past its deadline is such a run certainly abandoned.
    created, _ = runs.start_run(world.stores, lambda: world.sfn, CALLER, world.test.id, StartRunRequest.model_validate({"durationSeconds": 600}), None)
    run_step({"action": "start", "runId": created.id, "accountId": created.account_id}, world.stores, world.backend.factory)
    world.sfn.executions.clear()
    world.sfn.queue.clear()
    world.clock.advance(600)
    assert world.sweep().failed == [] and world.run(created.id).status == "Running"
    world.clock.advance(60 + GRACE_SECONDS + 1)  # fast_settings: a 60 s deadline margin
    assert world.sweep().failed == [created.id]
    assert "past its deadline" in world.run(created.id).failure_reason and not world.backend.backend.live_clusters()


def test_a_running_execution_is_never_second_guessed(world):
    created, _ = runs.start_run(world.stores, lambda: world.sfn, CALLER, world.test.id, StartRunRequest.model_validate({"durationSeconds": 600}), None)
    world.clock.advance(RESTART_WINDOW_SECONDS * 10)
    report = world.sweep()
    assert report.looked_at == 1 and (report.started, report.failed, report.cancelled) == ([], [], [])
    assert world.run(created.id).status == "Pending"


def test_events_a_down_bus_missed_are_sent_by_the_sweeper_once_each(world):
    class Down:
        def publish(self, *args):
            raise ConnectionError("could not connect to the endpoint URL")

    set_publisher(Down())
    created, _ = runs.start_run(world.stores, lambda: world.sfn, CALLER, world.test.id, StartRunRequest.model_validate({"durationSeconds": 2}), None)
    world.sfn.run_pending(world.clock)
    assert world.run(created.id).status == "Finished"
    assert [e.detail_type for e in world.stores.runs.pending_events("acct", created.id)] == ["RunStarted", "RunFinished"]
    set_publisher(world.bus)
    assert world.sweep().events_sent == 0  # too recent: the step that wrote them may still be draining
    world.clock.advance(OUTBOX_GRACE_SECONDS + 1)
    assert world.sweep().events_sent == 2
    assert [(k, d["eventId"], d["status"]) for k, d in world.bus.deliveries] == [
        ("RunStarted", f"{created.id}:RunStarted", "Running"), ("RunFinished", f"{created.id}:RunFinished", "Finished"),
    ]
    assert world.sweep().events_sent == 0 and world.stores.runs.pending_events("acct", created.id) == []


def test_a_bus_still_down_stops_the_sweepers_drain_at_the_first_refusal(world):
    class Down:
        calls = 0

        def publish(self, *args):
            Down.calls += 1
            raise ConnectionError("could not connect to the endpoint URL")

    set_publisher(Down())
    for _ in range(3):
        runs.start_run(world.stores, lambda: world.sfn, CALLER, world.test.id, StartRunRequest.model_validate({"durationSeconds": 2}), None)
        world.sfn.run_pending(world.clock)
    tried = Down.calls  # each run's steps tried once per drain
    world.clock.advance(OUTBOX_GRACE_SECONDS + 1)
    assert world.sweep().events_sent == 0 and Down.calls == tried + 1, "one refusal is enough to know the bus is down"


def test_a_cluster_a_failed_run_left_running_is_torn_down_by_one_sweep(world):
    failed, cluster = world.failed_with_its_cluster_left()
    active = world.running()
    fake = world.backend.backend
    # Another deployment's (or another data directory's) run on the same cluster: not this store's.
    foreign = fake.launch(ClusterSpec(run_id=new_id(), script="x", target_url="http://127.0.0.1:9", users=1, spawn_rate=1, duration_seconds=9))

    assert world.sweep().torn_down == [] and not cluster.torn_down  # ended just now: its own teardown may still be at work
    world.clock.advance(GRACE_SECONDS + 1)
    report = world.sweep()
    assert report.torn_down == [f"{failed.id}/{cluster.handle.launch_id}"] and report.errors == 0
    assert cluster.torn_down
    assert {c.handle.run_id for c in fake.live_clusters()} == {active.id, foreign.run_id}, "the active run's and the unknown run's stay"
    assert world.run(failed.id) == failed, "the run itself is not touched again"
    assert world.sweep().torn_down == []


def test_leftovers_go_oldest_first_a_few_per_sweep_and_a_failing_teardown_is_tried_again(world, monkeypatch):
    monkeypatch.setattr(sweeper, "ORPHANS_PER_SWEEP", 1)
    (first, older), (second, newer) = world.failed_with_its_cluster_left(), world.failed_with_its_cluster_left()
    world.clock.advance(GRACE_SECONDS + 1)
    fake = world.backend.backend

    def refuse(handle) -> None:
        raise RuntimeError("StopTask: AccessDenied")

    fake.on_teardown = refuse
    report = world.sweep()
    assert (report.torn_down, report.errors) == ([], 1) and not older.torn_down
    fake.on_teardown = None
    assert world.sweep().torn_down == [f"{first.id}/{older.handle.launch_id}"] and not newer.torn_down
    assert world.sweep().torn_down == [f"{second.id}/{newer.handle.launch_id}"] and fake.live_clusters() == []


def test_security_groups_of_runs_no_longer_active_are_deleted_once_free(world, monkeypatch):
    # The ecs backend's own group per launch (backends/ecs/network.py), on moto's EC2, which (as EC2)
    # refuses to delete a group a network interface still uses.
    use_moto_credentials(monkeypatch)
    with mock_aws(), groups_held_by_interfaces():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        vpc = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.60.1.0/24")["Subnet"]["SubnetId"]

        def group(run_id: str, managed_by: str = "load-manager") -> str:  # the deployment's tag, as settings have it
            spec = RunGroupSpec(vpc_id=vpc, run_id=run_id, launch_id=new_id(), managed_by=managed_by, web_port=8089, master_port=5557)
            return create_run_group(ec2, spec)

        failed, _ = world.failed_with_its_cluster_left()
        active = world.running()
        ended_group, held_group, active_group = group(failed.id), group(failed.id), group(active.id)
        foreign_group = group(failed.id, managed_by="another-stack")
        interface = ec2.create_network_interface(SubnetId=subnet, Groups=[held_group])["NetworkInterface"]["NetworkInterfaceId"]

        report = sweep(world.stores, world.backend.factory, world.sfn, security_groups=True, ec2=ec2)
        assert (report.groups_deleted, report.groups_in_use, report.errors) == ([ended_group], [held_group], 0)
        ec2.delete_network_interface(NetworkInterfaceId=interface)  # Fargate released the stopped task's interface
        report = sweep(world.stores, world.backend.factory, world.sfn, security_groups=True, ec2=ec2)
        assert (report.groups_deleted, report.groups_in_use) == ([held_group], [])
        left = {g["GroupId"] for g in ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]}
        assert {active_group, foreign_group} <= left and not {ended_group, held_group} & left
