"""The last lines a stopped task's container wrote, read back from CloudWatch Logs (the task
definition's awslogs driver), for a failure's reason. Read only once a task is found stopped, never
on a healthy poll; best effort: what cannot be read becomes a one-line note, never an error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .tasks import AwsApiError, aws_call, task_id

LOG_TAIL_LINES = 20
LOG_TAIL_BYTES = 4096
NOTE_CHARS = 200


def awslogs_location(definition: Mapping[str, Any], container_name: str, task_arn: str) -> tuple[str, str, str | None] | None:
    """(group, stream, region) where the awslogs driver writes this task's container output, as a
    task definition (DescribeTaskDefinition) declares it: the stream is
    `<awslogs-stream-prefix>/<container name>/<task id>`. None without awslogs and a prefix."""
    container = next((c for c in definition.get("containerDefinitions") or [] if c.get("name") == container_name), None)
    config = (container or {}).get("logConfiguration") or {}
    options = config.get("options") or {}
    group, prefix = options.get("awslogs-group"), options.get("awslogs-stream-prefix")
    if config.get("logDriver") != "awslogs" or not group or not prefix:
        return None
    return str(group), f"{prefix}/{container_name}/{task_id(task_arn)}", options.get("awslogs-region") or None


def read_log_tail(logs: Any, group: str, stream: str, *, lines: int = LOG_TAIL_LINES, max_bytes: int = LOG_TAIL_BYTES) -> str:
    """The stream's last `lines` lines, at most `max_bytes` of UTF-8 (older lines go first).
    Raises AwsApiError (a stream not created yet is ResourceNotFoundException)."""
    response = aws_call(logs.get_log_events, logGroupName=group, logStreamName=stream, limit=lines, startFromHead=False)
    kept: list[str] = []
    size = 0
    for event in reversed(response.get("events") or []):
        line = str(event.get("message", "")).rstrip("\r\n")
        size += len(line.encode("utf-8", "replace")) + 1
        if size > max_bytes:
            if not kept:  # one huge line: its end, which is where the error is
                kept.append(line.encode("utf-8", "replace")[-(max_bytes - 1) :].decode("utf-8", "ignore"))
            break
        kept.append(line)
    return "\n".join(reversed(kept))


def log_tail_or_note(logs: Any, group: str, stream: str) -> str:
    """`read_log_tail`, or a short note saying why the log could not be read."""
    try:
        return read_log_tail(logs, group, stream) or f"(the log stream {stream} is empty)"
    except AwsApiError as exc:
        return unreadable(f"the log {group}/{stream}", exc)


def unreadable(what: str, exc: AwsApiError) -> str:
    return f"(could not read {what}: {str(exc)[:NOTE_CHARS]})"
