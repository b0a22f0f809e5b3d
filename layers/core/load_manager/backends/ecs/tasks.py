"""ECS tasks as DescribeTasks returns them, and the AWS calls around them.

boto3 is imported lazily, never at module import: this package ships in the Lambda layer and the
API functions (which never start a cluster) must not pay for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from load_manager.adapters import aws_clients

from ..base import BackendError, ProcessStatus
from ..bundle_layout import BOOTSTRAP_FAILURES

STOPPED = "STOPPED"
TAG_RUN_ID = "load-manager:run-id"
TAG_LAUNCH_ID = "load-manager:launch-id"
TAG_ROLE = "load-manager:role"
TAG_WORKER_INDEX = "load-manager:worker-index"  # a worker task's LOAD_MANAGER_WORKER_INDEX (its data share)
ROLE_MASTER = "master"
ROLE_WORKER = "worker"
STARTED_BY_MAX = 36
# StopTask / DescribeTasks on a task or cluster ECS no longer knows: already gone, nothing to do.
GONE_ERRORS = frozenset({"InvalidParameterException", "ClusterNotFoundException"})
S3_GONE_ERRORS = frozenset({"NoSuchBucket", "NoSuchKey", "404"})
# Worth another attempt later: throttling, the service's own trouble, the network.
TRANSIENT_AWS_ERRORS = frozenset({
    "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
    "ServerException", "ServiceUnavailableException", "ServiceUnavailable", "InternalError",
    "InternalFailure", "RequestTimeout", "RequestTimeoutException", "SlowDown",
    "EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError",
})  # fmt: skip


class AwsApiError(BackendError):
    """An AWS call failed (after botocore's own retries). `code` is AWS's error code."""

    def __init__(self, code: str, operation: str, message: str):
        super().__init__(f"{code} on {operation}: {message}")
        self.code = code
        self.operation = operation

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        return self.code in TRANSIENT_AWS_ERRORS


def aws_call(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run an AWS call, turning SDK failures into `AwsApiError` with the code."""
    from botocore.exceptions import BotoCoreError, ClientError  # lazy: boto3 costs 157 ms at import (bench/cold_import.py --lazy)

    operation = getattr(call, "__name__", "call")
    try:
        result = call(*args, **kwargs)
        if not isinstance(result, (dict, str)) and hasattr(result, "__iter__"):
            result = list(result)  # paginators are lazy: fail here, inside the try
        return result
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise AwsApiError(str(error.get("Code") or "ClientError"), exc.operation_name, str(error.get("Message") or exc)) from exc
    except BotoCoreError as exc:
        raise AwsApiError(type(exc).__name__, operation, str(exc)) from exc


def client(service: str, region: str | None) -> Any:
    """One client per service and region per execution environment (adapters/aws_clients.py)."""
    # A failure's log tail (logs) is best effort: never worth a long wait on an unreachable endpoint.
    quick = {"connect_timeout": 5, "read_timeout": 10} if service == "logs" else {}
    return aws_clients.client(
        service,
        region=region,
        retries={"mode": "standard", "max_attempts": 2 if quick else 8},  # teardown must survive throttling
        signature_version="s3v4" if service == "s3" else None,  # presigned URLs work with SSE-KMS too
        **quick,
    )


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


def is_stopping(task: Mapping[str, Any]) -> bool:
    return task.get("lastStatus") == STOPPED or task.get("desiredStatus") == STOPPED


def task_status(task: Mapping[str, Any], container_name: str, what: str) -> ProcessStatus:
    """`what` names the task in the reason ("the Locust master task", "Locust worker task abc")."""
    if not is_stopping(task):
        return ProcessStatus(alive=True, exit_code=None)
    container = next((c for c in task.get("containers") or [] if c.get("name") == container_name), None)
    # An exit code exists only once the container has stopped (and not when it never started).
    exit_code = container.get("exitCode") if container and task.get("lastStatus") == STOPPED else None
    lines = [f"ECS task {task_id(task.get('taskArn', ''))}: {task.get('lastStatus')} (desired {task.get('desiredStatus')})"]
    if task.get("stopCode"):
        lines.append(f"stop code: {task['stopCode']}")
    if task.get("stoppedReason"):
        lines.append(f"stopped reason: {task['stoppedReason']}")
    if container and container.get("reason"):
        lines.append(f"container {container_name}: {container['reason']}")
    code = exit_code if isinstance(exit_code, int) else None
    meaning = BOOTSTRAP_FAILURES.get(code) if code is not None else None  # before Locust: what the bootstrap says it failed at
    return ProcessStatus(alive=False, exit_code=code, log_tail="\n".join(lines), reason=f"{what} stopped" + (f": {meaning}" if meaning else ""))


def tags(task: Mapping[str, Any]) -> dict[str, str]:
    return {str(tag.get("key")): str(tag.get("value")) for tag in task.get("tags") or []}


def failures(response: Mapping[str, Any]) -> str:
    found = response.get("failures") or []
    text = "; ".join(f"{f.get('reason') or 'failed'}{' (' + f['detail'] + ')' if f.get('detail') else ''}" for f in found)
    return text or "no task and no failure reported"


def task_id(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def started_by(run_id: str) -> str:
    # startedBy: up to 36 letters, digits, hyphens, underscores and slashes.
    return re.sub(r"[^A-Za-z0-9_/-]", "-", run_id)[:STARTED_BY_MAX] or "load-manager"


def tag_value(value: str) -> str:
    return re.sub(r"[^\w .:/=+@-]", "-", value)[:256]


def key_part(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", run_id)[:200] or "run"


def missing_worker_indexes(tasks: Iterable[Mapping[str, Any]], count: int) -> list[int]:
    """The worker indexes in [0, count) no task of the launch has yet. A task without an index tag
    (started before workers had indexes) stands for the lowest missing one: never more than `count`."""
    found = [tags(task).get(TAG_WORKER_INDEX) for task in tasks]
    missing = [index for index in range(count) if str(index) not in found]
    return missing[sum(1 for index in found if index is None) :]
