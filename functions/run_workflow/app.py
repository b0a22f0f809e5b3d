"""Run lifecycle tasks, invoked by the Step Functions state machine (not by API Gateway).

The event names the step (`action`) and the run; the return value is the state machine's state.
Errors propagate on purpose: their class name is the Error the state machine retries or catches
(see load_manager/lifecycle/step_errors.py).
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from load_manager.backends import backend_for
from load_manager.lifecycle.dispatch import run_step
from load_manager.observability import logger, metrics
from load_manager.store import get_stores


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    logger.append_keys(run_id=event.get("runId"), action=event.get("action"))
    return run_step(event, get_stores(), backend_for)
