"""The events a run's lifecycle emits on the stack's bus (source `load-manager`):

- `RunStarted` when Locust's load is confirmed (Starting -> Running);
- `RunFinished` when the run reaches a final state (Finished, Cancelled or Failed), with its
  result, summary and links.

Each is published once, by the step whose conditional status write succeeded (a retried step
writes nothing, so publishes nothing). Publishing never fails a step and never blocks it for long
(short timeouts, one retry): a failure is logged and counted (`EventsPublishFailed`), and the run
goes on. Shapes are documented in the README ("Events Load Manager emits").
"""

from __future__ import annotations

from typing import Any

from load_manager.adapters.eventbridge import publish_safely
from load_manager.models import Run
from load_manager.settings import get_settings

RUN_STARTED = "RunStarted"
RUN_FINISHED = "RunFinished"


def links(run: Run) -> dict[str, str | None]:
    base = get_settings().automation.public_base_url
    return {
        "run": f"{base}/v1/runs/{run.id}",
        "script": f"{base}/v1/runs/{run.id}/script",
        "metrics": f"{base}/v1/runs/{run.id}/metrics",
        "console": f"{base}/runs/{run.id}",
        "report": run.report_location,
    }


def _common(run: Run) -> dict[str, Any]:
    return {
        "runId": run.id,
        "loadTestId": run.load_test_id,
        "accountId": run.account_id,
        "status": run.status,
        "scriptRevisionId": run.script_revision_id,
        "revisionNumber": run.revision_number,
        "scriptSha256": run.script_sha256,
        "targetUrl": run.target_url,
        "trigger": run.trigger.model_dump(by_alias=True) if run.trigger else None,
        "links": links(run),
    }


def run_started(run: Run) -> bool:
    detail = _common(run) | {
        "targetUsers": run.target_users, "spawnRate": run.spawn_rate, "durationSeconds": run.duration_seconds,
        "workers": run.workers, "backend": run.backend, "startedAt": run.started_at,
    }  # fmt: skip
    return publish_safely(RUN_STARTED, detail, _resources(run))


def run_finished(run: Run) -> bool:
    detail = _common(run) | {
        "result": run.result,
        "failureReason": run.failure_reason,
        "startedAt": run.started_at,
        "endedAt": run.ended_at,
        "summary": run.summary.model_dump(by_alias=True) if run.summary else None,
    }
    return publish_safely(RUN_FINISHED, detail, _resources(run))


def _resources(run: Run) -> list[str]:
    return [run.execution_arn] if run.execution_arn and run.execution_arn.startswith("arn:") else []
