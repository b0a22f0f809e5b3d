"""The sweeper, invoked every few minutes by an EventBridge schedule (not by API Gateway): ends the
runs no execution drives, sends the events no step will, tears down what ended runs left behind
(clusters, and on the ecs backend its per-run security groups), and removes what deleted tests left
(triggers, schedules, their own variables, secrets and channels) (load_manager/lifecycle/sweeper.py)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from load_manager.adapters.step_functions import default_starter
from load_manager.backends import backend_for
from load_manager.lifecycle.sweeper import sweep
from load_manager.observability import logger, metrics
from load_manager.settings import get_settings
from load_manager.store import get_stores


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Run groups exist only where runs go to ECS (the local backend has none).
    report = sweep(get_stores(), backend_for, default_starter(), security_groups=get_settings().default_backend == "ecs")
    summary = report.as_dict()
    if any(value for key, value in summary.items() if key != "looked_at"):
        logger.info("sweep settled runs", extra={"sweep": summary})  # a quiet sweep says nothing
    return summary
