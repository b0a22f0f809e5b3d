"""Run lifecycle tasks, invoked by the Step Functions state machine (not by API Gateway).

The event names the step (`action`) and the run; the return value is the state machine's state.
Errors propagate on purpose: their class name is the Error the state machine retries or catches.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from load_manager.observability import logger
from load_manager.orchestration import workflow
from load_manager.store import get_stores

STEPS = {
    "start": workflow.start_run,
    "poll": workflow.poll_run,
    "finalize": workflow.finalize_run,
    "fail": workflow.mark_failed,
}


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    step = STEPS.get(event.get("action", ""))
    if step is None:
        raise ValueError(f"unknown workflow action {event.get('action')!r}")
    logger.append_keys(run_id=event.get("runId"), action=event.get("action"))
    return step(get_stores(), event)
