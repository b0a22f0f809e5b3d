"""RunStarted and RunFinished as the lifecycle publishes them: `lifecycle.notify` builds each
event's detail for an example run, and the EventBridge publisher sends it to a recording client.
Every field they emit must have a line in FIELDS (and every line a field), so a new field cannot go
undocumented."""

from __future__ import annotations

import json
from typing import Any

from markdown_text import code, table

BASE_URL = "https://api.example.com"
RUN_ID = "0d5b7c1e9a8f4e2b8c3d4e5f60718293"
TEST_ID = "6f1e2d3c4b5a49788796a5b4c3d2e1f0"

FIELDS = {
    "eventId": "`<runId>:<detail-type>`: one per run and type, the same on a redelivery (delivery is at least once)",
    "runId": "the run ([Run](api-schemas.md#schema-run) `id`)",
    "loadTestId": "its load test",
    "accountId": "the tenant; a trigger only ever sees its own tenant's events",
    "status": "`Running` in RunStarted; `Finished`, `Cancelled` or `Failed` in RunFinished",
    "result": "`Passed`, `Failed` or `NotEvaluated` (decided at Finalize by the run's criteria)",
    "failureReason": "why the run Failed, in words; `null` otherwise",
    "scriptRevisionId": "the pinned revision's id",
    "revisionNumber": "the pinned revision's number",
    "scriptSha256": "the pinned bundle's digest",
    "targetUrl": "what the load went to",
    "targetUsers": "users asked for",
    "spawnRate": "users started per second",
    "durationSeconds": "how long the load lasts",
    "workers": "Locust worker processes (or tasks on ECS)",
    "backend": "`local` or `ecs`",
    "startedAt": "when load began (epoch ms)",
    "endedAt": "when the run reached its final state (epoch ms)",
    "summary": "the whole run's figures ([RunSummary](api-schemas.md#schema-runsummary)), `null` when Locust reported none",
    "generatorSaturated": "a load generator was saturated (more than 10 % of its time above 90 % of a core): the figures may "
    "understate what the target can do, whatever the result; `null` when not judged (no or too few readings)",
    "generatorHealth": "when `generatorSaturated`: `message` (the verdict in words) and `saturated`, the figures of each saturated "
    "generator ([GeneratorFigures](api-schemas.md#schema-generatorfigures)); `null` otherwise",
    "trigger": "what started the run: [ApiTrigger](api-schemas.md#schema-apitrigger), "
    "[EventTrigger](api-schemas.md#schema-eventtrigger) or [ScheduleTrigger](api-schemas.md#schema-scheduletrigger)",
    "links": "`run`, `script`, `metrics` (API paths), `console` (the run's page) and `report` (where the HTML report is: "
    "an S3 URI or a local path); absolute when `PUBLIC_BASE_URL` is set",
}


class _RecordingEvents:
    """Stands where boto3's EventBridge client would: keeps what PutEvents was given."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 - boto3's keyword
        self.entries += Entries
        return {"FailedEntryCount": 0, "Entries": [{"EventId": str(i)} for i, _ in enumerate(Entries)]}


def _example_run(status: str, result: str) -> Any:
    from load_manager.models.runs import Run

    started, ended = 1_764_000_000_000, 1_764_000_300_500
    return Run.model_validate({
        "id": RUN_ID, "accountId": "acme", "loadTestId": TEST_ID, "status": status, "result": result,
        "statusHistory": [{"status": "Pending", "at": started - 2_000, "actor": "trigger:3b9c", "reason": "run requested"}],
        "scriptRevisionId": "9a8b7c6d5e4f40312233445566778899", "revisionNumber": 7,
        "scriptSha256": "5f2c0e1d" * 8, "targetUrl": "https://staging.example.com", "targetUsers": 50, "spawnRate": 10.0,
        "durationSeconds": 300, "workers": 2, "backend": "ecs", "createdAt": started - 2_000, "createdBy": "trigger:3b9c",
        "startedAt": started, "endedAt": ended if status != "Running" else None,
        "executionArn": f"arn:aws:states:eu-west-1:123456789012:execution:load-manager-run-lifecycle:{RUN_ID}",
        "reportLocation": f"s3://load-manager-artifacts/reports/acme/{RUN_ID}.html" if status != "Running" else None,
        "trigger": {"type": "event", "triggerId": "3b9c", "eventId": "c3b1d2e4-5f60-4a7b-8c9d-0e1f2a3b4c5d", "source": "aws.codedeploy",
                    "detailType": "CodeDeploy Deployment State-change Notification", "eventDigest": "e3b0c442" * 8},
        "summary": None if status == "Running" else {
            "totalRequests": 91_532, "totalFailures": 12, "failRatio": 0.000131, "rps": 305.1, "p50Ms": 41.0, "p90Ms": 88.0,
            "p95Ms": 120.0, "p99Ms": 310.0, "avgMs": 52.7, "maxMs": 1_204.0, "durationSeconds": 300.5,
        },
    })  # fmt: skip


def _published() -> list[dict[str, Any]]:
    """The two events through the real path: notify's outbox events and details, published by the
    EventBridge publisher into a recording client; rendered as EventBridge delivers them."""
    from load_manager.adapters.eventbridge import EventBridgePublisher
    from load_manager.lifecycle import notify
    from load_manager.settings import AutomationSettings, Settings, settings_scope

    client = _RecordingEvents()
    publisher = EventBridgePublisher("load-manager", client=client)
    running, finished = _example_run("Running", "NotEvaluated"), _example_run("Finished", "Passed")
    with settings_scope(Settings(automation=AutomationSettings(public_base_url=BASE_URL))):
        for run, event in ((running, notify.run_started(RUN_ID, running.started_at)),
                           (finished, notify.run_finished(RUN_ID, "Finished", finished.ended_at))):  # fmt: skip
            publisher.publish(event.detail_type, notify.detail(run, event), notify._resources(run))
    events = [
        {"source": e["Source"], "detail-type": e["DetailType"], "resources": e["Resources"], "detail": json.loads(e["Detail"])}
        for e in client.entries
    ]
    if [event["detail-type"] for event in events] != [notify.RUN_STARTED, notify.RUN_FINISHED]:
        raise RuntimeError(f"published {[e['detail-type'] for e in events]}, not RunStarted then RunFinished")
    return events


def run_events() -> str:
    events = _published()
    emitted = {key for event in events for key in event["detail"]}
    if emitted != set(FIELDS):
        raise RuntimeError(f"event fields changed: undocumented {sorted(emitted - set(FIELDS))}, gone {sorted(set(FIELDS) - emitted)}")
    out = []
    for event in events:
        out.append(f"### {event['detail-type']}\n\n```json\n{json.dumps(event, indent=2)}\n```\n")
    rows = [[code(key), ", ".join(e["detail-type"] for e in events if key in e["detail"]), FIELDS[key]] for key in FIELDS]
    out.append("### Fields of `detail`\n\n" + table(["Field", "In", "What it is"], rows))
    return "\n".join(out)
