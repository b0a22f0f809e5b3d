"""A stopped ECS task's log tail (backends/ecs/logs.py and the backend's use of it), against moto's
CloudWatch Logs and ECS task definitions in process: no cluster, no Locust."""

from __future__ import annotations

import time

import boto3
import pytest
from moto import mock_aws
from support.aws import use_moto_credentials

from load_manager.backends.base import ClusterHandle, LocustCrashedError, ProcessStatus
from load_manager.backends.ecs import EcsLocustBackend, EcsSettings
from load_manager.backends.ecs.logs import LOG_TAIL_BYTES, LOG_TAIL_LINES, awslogs_location, log_tail_or_note, read_log_tail

REGION = "us-east-1"
GROUP = "/load-manager/test/locust"
TASK_ARN = "arn:aws:ecs:us-east-1:123456789012:task/cluster/0123456789abcdef"
STREAM = "master/locust/0123456789abcdef"


@pytest.fixture
def aws(monkeypatch):
    use_moto_credentials(monkeypatch)
    with mock_aws():
        yield boto3.client("logs", region_name=REGION), boto3.client("ecs", region_name=REGION)


def put_lines(logs, lines: list[str], stream: str = STREAM) -> None:
    if not logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"]:
        logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=[{"timestamp": now, "message": m} for m in lines])


def test_the_tail_is_the_streams_last_lines_in_order_and_bounded(aws):
    logs, _ = aws
    put_lines(logs, [f"line {n}" for n in range(50)])
    tail = read_log_tail(logs, GROUP, STREAM)
    assert tail.splitlines() == [f"line {n}" for n in range(50 - LOG_TAIL_LINES, 50)]

    long_lines = [f"{n:03d} " + "x" * 996 for n in range(LOG_TAIL_LINES)]
    put_lines(logs, long_lines, stream="master/locust/long")
    tail = read_log_tail(logs, GROUP, "master/locust/long")
    assert len(tail.encode()) <= LOG_TAIL_BYTES
    assert tail.splitlines() == long_lines[-(LOG_TAIL_BYTES // 1001) :]  # whole lines (1,000 bytes + newline), the newest kept

    put_lines(logs, ["y" * 10_000 + " the end"], stream="master/locust/huge")
    huge = read_log_tail(logs, GROUP, "master/locust/huge")
    assert len(huge.encode()) < LOG_TAIL_BYTES and huge.endswith("y the end")


def test_a_missing_stream_is_a_short_note_not_an_error(aws):
    logs, _ = aws
    logs.create_log_group(logGroupName=GROUP)
    note = log_tail_or_note(logs, GROUP, STREAM)
    assert note.startswith(f"(could not read the log {GROUP}/{STREAM}: ResourceNotFoundException")
    assert len(note) < 300 and "\n" not in note


def test_the_stream_is_named_from_the_task_definitions_awslogs_options():
    definition = {
        "containerDefinitions": [{
            "name": "locust",
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {"awslogs-group": GROUP, "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "master"},
            },
        }]
    }  # fmt: skip
    assert awslogs_location(definition, "locust", TASK_ARN) == (GROUP, STREAM, "eu-west-1")
    assert awslogs_location(definition, "other", TASK_ARN) is None
    assert awslogs_location({"containerDefinitions": [{"name": "locust"}]}, "locust", TASK_ARN) is None


def backend_and_task(aws, *, log_configuration: dict | None):
    logs, ecs = aws
    container = {"name": "locust", "image": "locustio/locust", "memory": 512}
    if log_configuration:
        container["logConfiguration"] = log_configuration
    definition = ecs.register_task_definition(family="locust-master", containerDefinitions=[container])["taskDefinition"]
    settings = EcsSettings(
        cluster="cluster", master_task_definition="m", worker_task_definition="w", subnets=("s",), security_groups=("g",),
        script_bucket="b", region=REGION,
    )  # fmt: skip
    backend = EcsLocustBackend(settings, ecs_client=ecs, logs_client=logs)
    handle = ClusterHandle(backend="ecs", run_id="r", web_url="", workers=0, started_at=0, details={"region": REGION})
    task = {"taskArn": TASK_ARN, "taskDefinitionArn": definition["taskDefinitionArn"]}
    return backend, handle, task


AWSLOGS = {"logDriver": "awslogs", "options": {"awslogs-group": GROUP, "awslogs-stream-prefix": "master"}}
STOPPED = ProcessStatus(alive=False, exit_code=1, log_tail="ECS task 0123456789abcdef: STOPPED (desired STOPPED)", reason="stopped")


def test_a_stopped_tasks_status_carries_its_log_tail_before_ecss_account(aws):
    backend, handle, task = backend_and_task(aws, log_configuration=AWSLOGS)
    put_lines(aws[0], ["Traceback (most recent call last):", "RuntimeError: boom at import"])
    status = backend._with_log_tail(handle, task, STOPPED)
    assert status.log_tail.splitlines() == [
        "Traceback (most recent call last):", "RuntimeError: boom at import", "ECS task 0123456789abcdef: STOPPED (desired STOPPED)",
    ]  # fmt: skip
    assert (status.alive, status.exit_code, status.reason) == (False, 1, "stopped")
    reason = str(LocustCrashedError(status.reason, exit_code=status.exit_code, log_tail=status.log_tail))
    assert reason.startswith("stopped (exit code 1); last Locust log lines:\nTraceback") and "boom at import" in reason


def test_what_cannot_be_read_is_a_note_and_the_status_is_unchanged(aws):
    backend, handle, task = backend_and_task(aws, log_configuration=AWSLOGS)
    no_stream = backend._with_log_tail(handle, task, STOPPED)  # neither group nor stream exists
    assert no_stream.log_tail.startswith(f"(could not read the log {GROUP}/{STREAM}: ResourceNotFoundException")
    assert no_stream.log_tail.endswith(STOPPED.log_tail) and no_stream.exit_code == 1

    unknown = backend._with_log_tail(handle, {**task, "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/gone:9"}, STOPPED)
    assert unknown.log_tail.startswith("(could not read the task's log: ") and unknown.log_tail.endswith(STOPPED.log_tail)

    backend, handle, task = backend_and_task(aws, log_configuration=None)
    assert backend._with_log_tail(handle, task, STOPPED).log_tail.startswith("(no log to read: container locust does not log")
